import { Migration } from '@mikro-orm/migrations';

export class Migration20261126062410 extends Migration {

  override name = 'Migration20261126062410';

  override up(): void | Promise<void> {
    this.addSql(`create table "api_token" ("id" uuid not null, "name" varchar(255) not null, "token_hash" varchar(64) not null, "created_at" timestamptz not null, "last_used_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "api_token" add constraint "api_token_token_hash_unique" unique ("token_hash");`);

    this.addSql(`create table "connector" ("id" uuid not null, "tool" varchar(64) not null, "label" varchar(255) not null, "location" text not null, "secret_encrypted" text not null, "settings" jsonb not null, "min_severity" text not null default 'Info', "auto_map" boolean not null default false, "enabled" boolean not null default true, "schedule_hour" int not null default 3, "schedule_minute" int not null default 0, "schedule_timezone" varchar(64) not null default 'UTC', "created_at" timestamptz not null, "updated_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "connector" add constraint "connector_tool_label_unique" unique ("tool", "label");`);
    this.addSql(`alter table "connector" add constraint "connector_min_severity_check" check ("min_severity" in ('Critical', 'High', 'Medium', 'Low', 'Info'));`);

    this.addSql(`create table "product" ("id" uuid not null, "name" varchar(255) not null, "description" text null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "product" add constraint "product_name_unique" unique ("name");`);

    this.addSql(`create table "engagement" ("id" uuid not null, "product_id" uuid not null, "name" varchar(255) not null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "engagement" add constraint "engagement_product_id_name_unique" unique ("product_id", "name");`);

    this.addSql(`create table "test" ("id" uuid not null, "engagement_id" uuid not null, "connector_id" uuid null, "tool" varchar(64) not null, "title" varchar(512) not null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "test" add constraint "test_engagement_id_connector_id_unique" unique ("engagement_id", "connector_id");`);

    this.addSql(`create table "finding" ("id" bigserial primary key, "test_id" uuid not null, "title" text not null, "severity" text not null, "description" text null, "mitigation" text null, "references" text null, "cwes" jsonb null, "vulnerability_ids" jsonb null, "cvss_vector" varchar(255) null, "cvss_score" double precision null, "component_name" text null, "component_version" text null, "file_path" text null, "line" int null, "endpoint" text null, "unique_id_from_tool" text null, "vuln_id_from_tool" text null, "hash_code" varchar(64) null, "false_p" boolean not null default false, "risk_accepted" boolean not null default false, "out_of_scope" boolean not null default false, "raw" jsonb null, "active" boolean not null default true, "verified" boolean not null default false, "is_mitigated" boolean not null default false, "mitigated_at" timestamptz null, "triaged_by_person" boolean not null default false, "person_edited_fields" jsonb null, "first_seen_at" timestamptz not null, "last_seen_at" timestamptz not null, "created_at" timestamptz not null);`);
    this.addSql(`create index "finding_test_id_unique_id_from_tool_index" on "finding" ("test_id", "unique_id_from_tool");`);
    this.addSql(`create index "finding_test_id_hash_code_index" on "finding" ("test_id", "hash_code");`);
    this.addSql(`create index "finding_test_id_active_index" on "finding" ("test_id", "active");`);
    this.addSql(`create index "finding_severity_index" on "finding" ("severity");`);
    this.addSql(`alter table "finding" add constraint "finding_severity_check" check ("severity" in ('Critical', 'High', 'Medium', 'Low', 'Info'));`);

    this.addSql(`create table "tool_record" ("id" uuid not null, "connector_id" uuid not null, "external_id" varchar(512) not null, "name" varchar(512) not null, "state" text not null default 'new', "product_id" uuid null, "metadata" jsonb null, "first_discovered_at" timestamptz not null, "last_discovered_at" timestamptz not null, "finalized_at" timestamptz null, "last_sync_at" timestamptz null, "last_sync_status" varchar(32) null, primary key ("id"));`);
    this.addSql(`create index "tool_record_connector_id_state_index" on "tool_record" ("connector_id", "state");`);
    this.addSql(`alter table "tool_record" add constraint "tool_record_connector_id_external_id_unique" unique ("connector_id", "external_id");`);
    this.addSql(`alter table "tool_record" add constraint "tool_record_state_check" check ("state" in ('new', 'good', 'missing', 'stale', 'ignored'));`);

    this.addSql(`create table "operation" ("id" uuid not null, "connector_id" uuid null, "record_id" uuid null, "type" text not null, "trigger" text not null, "status" text not null default 'pending', "created_at" timestamptz not null, "started_at" timestamptz null, "ended_at" timestamptz null, "duration_ms" int null, "workflow_id" varchar(512) not null, "run_id" varchar(64) null, "error" jsonb null, "summary" jsonb null, primary key ("id"));`);
    this.addSql(`create index "operation_connector_id_status_index" on "operation" ("connector_id", "status");`);
    this.addSql(`create index "operation_created_at_index" on "operation" ("created_at");`);
    this.addSql(`create index "operation_workflow_id_index" on "operation" ("workflow_id");`);
    this.addSql(`alter table "operation" add constraint "operation_workflow_id_run_id_unique" unique ("workflow_id", "run_id");`);
    this.addSql(`alter table "operation" add constraint "operation_type_check" check ("type" in ('discover', 'sync'));`);
    this.addSql(`alter table "operation" add constraint "operation_trigger_check" check ("trigger" in ('scheduled', 'manual'));`);
    this.addSql(`alter table "operation" add constraint "operation_status_check" check ("status" in ('pending', 'running', 'succeeded', 'failed', 'partial'));`);

    this.addSql(`create table "sync_fetch" ("id" uuid not null, "record_id" uuid not null, "operation_id" uuid null, "status" text not null default 'fetching', "cursor" jsonb null, "pages" int not null default 0, "item_count" int not null default 0, "created_at" timestamptz not null, "fetched_at" timestamptz null, primary key ("id"));`);
    this.addSql(`alter table "sync_fetch" add constraint "sync_fetch_status_check" check ("status" in ('fetching', 'fetched', 'applied'));`);

    this.addSql(`create table "staged_finding" ("id" bigserial primary key, "fetch_id" uuid not null, "page" int not null, "title" text not null, "severity" text not null, "description" text null, "mitigation" text null, "references" text null, "cwes" jsonb null, "vulnerability_ids" jsonb null, "cvss_vector" varchar(255) null, "cvss_score" double precision null, "component_name" text null, "component_version" text null, "file_path" text null, "line" int null, "endpoint" text null, "unique_id_from_tool" text null, "vuln_id_from_tool" text null, "hash_code" varchar(64) null, "false_p" boolean not null default false, "risk_accepted" boolean not null default false, "out_of_scope" boolean not null default false, "raw" jsonb null);`);
    this.addSql(`create index "staged_finding_fetch_id_page_index" on "staged_finding" ("fetch_id", "page");`);
    this.addSql(`alter table "staged_finding" add constraint "staged_finding_severity_check" check ("severity" in ('Critical', 'High', 'Medium', 'Low', 'Info'));`);

    this.addSql(`create table "finding_import" ("id" uuid not null, "test_id" uuid not null, "operation_id" uuid null, "fetch_id" uuid not null, "created" int not null default 0, "closed" int not null default 0, "reactivated" int not null default 0, "untouched" int not null default 0, "updated" int not null default 0, "severity_before" jsonb not null, "severity_after" jsonb not null, "settings" jsonb not null, "created_at" timestamptz not null, primary key ("id"));`);
    this.addSql(`alter table "finding_import" add constraint "finding_import_fetch_id_unique" unique ("fetch_id");`);
    this.addSql(`create index "finding_import_test_id_created_at_index" on "finding_import" ("test_id", "created_at");`);

    this.addSql(`create table "finding_action" ("id" bigserial primary key, "import_id" uuid not null, "finding_id" bigint not null, "action" text not null, "created_at" timestamptz not null);`);
    this.addSql(`create index "finding_action_import_id_index" on "finding_action" ("import_id");`);
    this.addSql(`create index "finding_action_finding_id_index" on "finding_action" ("finding_id");`);
    this.addSql(`alter table "finding_action" add constraint "finding_action_action_check" check ("action" in ('created', 'closed', 'reactivated', 'untouched', 'updated'));`);

    this.addSql(`alter table "engagement" add constraint "engagement_product_id_foreign" foreign key ("product_id") references "product" ("id") on delete cascade;`);

    this.addSql(`alter table "test" add constraint "test_engagement_id_foreign" foreign key ("engagement_id") references "engagement" ("id") on delete cascade;`);
    this.addSql(`alter table "test" add constraint "test_connector_id_foreign" foreign key ("connector_id") references "connector" ("id") on delete set null;`);

    this.addSql(`alter table "finding" add constraint "finding_test_id_foreign" foreign key ("test_id") references "test" ("id") on delete cascade;`);

    this.addSql(`alter table "tool_record" add constraint "tool_record_connector_id_foreign" foreign key ("connector_id") references "connector" ("id") on delete cascade;`);
    this.addSql(`alter table "tool_record" add constraint "tool_record_product_id_foreign" foreign key ("product_id") references "product" ("id") on delete set null;`);

    this.addSql(`alter table "operation" add constraint "operation_connector_id_foreign" foreign key ("connector_id") references "connector" ("id") on delete set null;`);
    this.addSql(`alter table "operation" add constraint "operation_record_id_foreign" foreign key ("record_id") references "tool_record" ("id") on delete set null;`);

    this.addSql(`alter table "sync_fetch" add constraint "sync_fetch_record_id_foreign" foreign key ("record_id") references "tool_record" ("id") on delete cascade;`);
    this.addSql(`alter table "sync_fetch" add constraint "sync_fetch_operation_id_foreign" foreign key ("operation_id") references "operation" ("id") on delete set null;`);

    this.addSql(`alter table "staged_finding" add constraint "staged_finding_fetch_id_foreign" foreign key ("fetch_id") references "sync_fetch" ("id") on delete cascade;`);

    this.addSql(`alter table "finding_import" add constraint "finding_import_test_id_foreign" foreign key ("test_id") references "test" ("id") on delete cascade;`);
    this.addSql(`alter table "finding_import" add constraint "finding_import_operation_id_foreign" foreign key ("operation_id") references "operation" ("id") on delete set null;`);

    this.addSql(`alter table "finding_action" add constraint "finding_action_import_id_foreign" foreign key ("import_id") references "finding_import" ("id") on delete cascade;`);
    this.addSql(`alter table "finding_action" add constraint "finding_action_finding_id_foreign" foreign key ("finding_id") references "finding" ("id") on delete cascade;`);
  }

}
