"""DRF's authtoken is replaced by django-rest-knox (expiring, revocable tokens stored as digests): its table
goes. Its tokens never expired, so none of them may keep working. Not reversible: an old token must not
come back."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("trial", "0009_two_factor_events")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop),
    ]
