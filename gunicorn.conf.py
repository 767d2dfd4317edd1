"""gunicorn reads this file from the working directory (`gunicorn config.wsgi`).

Request lines up to gunicorn's maximum pass through, so the app itself answers an over-long
API URL with its JSON 414 (tokens.middleware.MAX_API_URL_LENGTH); only lines past 8190
bytes get gunicorn's own plain-text 414."""

limit_request_line = 8190
