"""How other apps hear about project deletion without this app importing them."""

from django.dispatch import Signal

# Sent inside the deleting transaction, before the project is marked deleted; receivers
# (the tokens app) revoke what belongs to it. Arguments: project, actor.
project_deleting = Signal()

# Asked before deleting, for the confirmation; receivers answer a sentence or None.
# Arguments: project.
project_dependents = Signal()
