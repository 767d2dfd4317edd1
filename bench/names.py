"""Names the seed gives to the rows the load uses, shared by the seed and the endpoints."""

ORG = "acme"
PROJECT = "web"
SMALL_ORG = "small"  # 10 CI tokens, 10 audit events
LARGE_ORG = "large"  # 10,000 CI tokens, 10,000 audit events

LOAD_EMAIL = "load@bench.test"  # owns the personal tokens the HTTP load presents
SMALL_EMAIL = "pages-10@bench.test"  # 10 personal tokens; owner of SMALL_ORG
LARGE_EMAIL = "pages-10000@bench.test"  # 10,000 personal tokens; owner of LARGE_ORG

WHOAMI_LABEL = "bench whoami"  # personal token of LOAD_EMAIL
BURST_LABEL = "bench burst"  # personal token of LOAD_EMAIL, first used by the touch burst
DEPLOY_LABEL = "bench deploy"  # CI token of ORG

DRF_EMAIL = "drf-load@bench.test"  # the DRF authtoken and knox token the load presents
APIKEY_NAME = "bench load"
