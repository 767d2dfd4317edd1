import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tokens", "0003_expiry_notified_for"),
    ]

    operations = [
        migrations.AddField(
            model_name="token",
            name="created_by_token",
            field=models.ForeignKey(
                blank=True,
                help_text="The token that created this one through the API, if any.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="tokens.token",
            ),
        ),
    ]
