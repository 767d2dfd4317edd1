"""`make bench`: Tokendesk's token verification and pages, measured beside DRF
TokenAuthentication, django-rest-knox and djangorestframework-api-key (see README.md)."""
