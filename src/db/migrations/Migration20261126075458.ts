import { Migration } from '@mikro-orm/migrations';

/**
 * Makes the reimport fast on large records: a digest of the tool-owned fields, indexes that cover what
 * matching and closing read, unlogged staging, and no per-row foreign-key checks on the rows a reimport
 * writes in bulk (row triggers remove them with their fetch or import instead). Also records when a person
 * last changed a finding's triage, which the last sighting of unchanged open findings depends on.
 */
export class Migration20261126075458 extends Migration {

  override name = 'Migration20261126075458';

  override up(): void | Promise<void> {
    this.addSql(`alter table "staged_finding" drop constraint "staged_finding_fetch_id_foreign";`);

    this.addSql(`alter table "finding_action" drop constraint "finding_action_finding_id_foreign";`);
    this.addSql(`alter table "finding_action" drop constraint "finding_action_import_id_foreign";`);

    this.addSql(`alter table "test" add "last_imported_at" timestamptz null;`);

    this.addSql(`drop index "finding_test_id_active_index";`);
    this.addSql(`drop index "finding_test_id_hash_code_index";`);
    this.addSql(`drop index "finding_test_id_unique_id_from_tool_index";`);
    this.addSql(`alter table "finding" add "tool_fields_hash" varchar(32) null, add "person_triaged_at" timestamptz null;`);
    this.addSql(`create index "finding_test_id_active_index" on "finding" ("test_id", "active") include ("id", "severity", "is_mitigated", "triaged_by_person");`);
    this.addSql(`create index "finding_test_id_hash_code_index" on "finding" ("test_id", "hash_code") include ("active", "is_mitigated", "triaged_by_person", "tool_fields_hash");`);
    this.addSql(`create index "finding_test_id_unique_id_from_tool_index" on "finding" ("test_id", "unique_id_from_tool") include ("active", "is_mitigated", "triaged_by_person", "tool_fields_hash");`);

    this.addSql(`create or replace function "sync_fetch_sync_fetch_discard_staged_fn"() returns trigger as \$\$ begin delete from staged_finding where fetch_id = OLD.id; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "sync_fetch_discard_staged" AFTER DELETE on "sync_fetch" for each ROW execute function "sync_fetch_sync_fetch_discard_staged_fn"();`);

    this.addSql(`alter table "staged_finding" add "tool_fields_hash" varchar(32) null;`);

    this.addSql(`create or replace function "finding_import_finding_import_discard_actions_fn"() returns trigger as \$\$ begin delete from finding_action where import_id = OLD.id; return null; end; \$\$ language plpgsql;`);
    this.addSql(`create trigger "finding_import_discard_actions" AFTER DELETE on "finding_import" for each ROW execute function "finding_import_finding_import_discard_actions_fn"();`);

    // Not modelled by the entities: staged rows are a claim check a retried fetch rewrites, so they need no WAL.
    this.addSql(`alter table "staged_finding" set unlogged;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "staged_finding" set logged;`);
    this.addSql(`drop index "finding_test_id_unique_id_from_tool_index";`);
    this.addSql(`drop index "finding_test_id_hash_code_index";`);
    this.addSql(`drop index "finding_test_id_active_index";`);
    this.addSql(`alter table "finding" drop column "tool_fields_hash", drop column "person_triaged_at";`);
    this.addSql(`create index "finding_test_id_unique_id_from_tool_index" on "finding" ("test_id", "unique_id_from_tool");`);
    this.addSql(`create index "finding_test_id_hash_code_index" on "finding" ("test_id", "hash_code");`);
    this.addSql(`create index "finding_test_id_active_index" on "finding" ("test_id", "active");`);

    this.addSql(`alter table "finding_action" add constraint "finding_action_finding_id_foreign" foreign key ("finding_id") references "finding" ("id") on update no action on delete cascade;`);
    this.addSql(`alter table "finding_action" add constraint "finding_action_import_id_foreign" foreign key ("import_id") references "finding_import" ("id") on update no action on delete cascade;`);

    this.addSql(`drop trigger if exists "finding_import_discard_actions" on "finding_import";`);
    this.addSql(`drop function if exists "finding_import_finding_import_discard_actions_fn"();`);

    this.addSql(`alter table "staged_finding" drop column "tool_fields_hash";`);
    this.addSql(`alter table "staged_finding" add constraint "staged_finding_fetch_id_foreign" foreign key ("fetch_id") references "sync_fetch" ("id") on update no action on delete cascade;`);

    this.addSql(`drop trigger if exists "sync_fetch_discard_staged" on "sync_fetch";`);
    this.addSql(`drop function if exists "sync_fetch_sync_fetch_discard_staged_fn"();`);

    this.addSql(`alter table "test" drop column "last_imported_at";`);
  }

}
