import { Migration } from '@mikro-orm/migrations';

/**
 * Token scopes, expiry and revocation, and the audit log. Tokens made before scopes existed could do
 * everything, so they become `admin` (an operator narrows them by making new ones); a new token always
 * states its scope, so the column keeps no default.
 */
export class Migration20261130225317 extends Migration {

  override name = 'Migration20261130225317';

  override up(): void | Promise<void> {
    this.addSql(`create table "audit_event" ("id" uuid not null, "at" timestamptz not null, "actor_token_id" uuid not null, "actor_name" varchar(255) not null, "action" text not null, "target_type" varchar(32) not null, "target_id" varchar(64) null, "outcome" text not null, "status" smallint not null, "details" jsonb null, primary key ("id"));`);
    this.addSql(`create index "audit_event_at_id_index" on "audit_event" ("at", "id");`);
    this.addSql(`create index "audit_event_actor_token_id_at_index" on "audit_event" ("actor_token_id", "at");`);
    this.addSql(`create index "audit_event_action_at_index" on "audit_event" ("action", "at");`);

    this.addSql(`alter table "api_token" add "scope" text not null default 'admin', add "expires_at" timestamptz null, add "revoked_at" timestamptz null;`);
    this.addSql(`alter table "api_token" alter column "scope" drop default;`);
    this.addSql(`alter table "api_token" add constraint "api_token_scope_check" check ("scope" in ('read', 'operate', 'admin'));`);

    this.addSql(`alter table "audit_event" add constraint "audit_event_action_check" check ("action" in ('connector.create', 'connector.update', 'connector.delete', 'connector.check', 'connector.discover', 'connector.sync', 'schedule.update', 'schedule.pause', 'schedule.unpause', 'record.map', 'record.unmap', 'record.ignore', 'record.restore', 'record.delete', 'record.sync', 'finding.triage', 'token.create', 'token.revoke'));`);
    this.addSql(`alter table "audit_event" add constraint "audit_event_outcome_check" check ("outcome" in ('succeeded', 'failed'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "audit_event" cascade;`);

    this.addSql(`alter table "api_token" drop constraint "api_token_scope_check";`);
    this.addSql(`alter table "api_token" drop column "scope", drop column "expires_at", drop column "revoked_at";`);
  }

}
