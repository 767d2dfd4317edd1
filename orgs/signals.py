"""How other apps hear about project deletion without this app importing them."""

from django.dispatch import Signal

# Sent inside the deleting transaction, before the project is marked deleted; receivers
# (the tokens app) revoke what belongs to it. Arguments: project, actor.
project_deleting = Signal()

# Asked before deleting, for the confirmation; receivers answer a sentence or None.
# Arguments: project.
project_dependents = Signal()

# Asked before a person leaves the organization (`project` None) or stops maintaining
# `project`, for the confirmation: receivers answer a list of the credentials that person
# created there which keep working (objects with `name`, `preview` and `project`).
# Arguments: organization, user, project.
member_credentials = Signal()

# Sent inside the removing transaction when the remover chose to revoke those credentials
# too; receivers revoke them, audit each, and answer how many. Arguments: organization, user,
# project, actor.
member_credentials_revoking = Signal()
