"""The user an audit context names cannot change once set.

Every event row points at a pghistory context holding who acted (and why, and the URL). pghistory updates
a context while its request runs (nested contexts add the reason), so the application's role must be able
to UPDATE the table; without this trigger it could also rewrite who made any past change, or point its
own session at an old context's id and have pghistory's upsert replace its metadata. Owned by the tables'
owner: the application's role cannot drop it (deploy/README.md, "Database roles").
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION trial_audit_context_user_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.metadata ? 'user' AND NEW.metadata -> 'user' IS DISTINCT FROM OLD.metadata -> 'user' THEN
        RAISE EXCEPTION 'the user of audit context % cannot change', OLD.id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_context_user_fixed BEFORE UPDATE ON pghistory_context
    FOR EACH ROW EXECUTE FUNCTION trial_audit_context_user_fixed();
"""
BACKWARD = """
DROP TRIGGER audit_context_user_fixed ON pghistory_context;
DROP FUNCTION trial_audit_context_user_fixed();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("trial", "0011_signin_records_prune_schedule"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
