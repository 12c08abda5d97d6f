import { Migration } from '@mikro-orm/migrations';

export class Migration20261201020406 extends Migration {

  override name = 'Migration20261201020406';

  override up(): void | Promise<void> {
    this.addSql(`create index "finding_vulnerability_ids_index" on "finding" using gin ("vulnerability_ids" jsonb_path_ops);`);
    this.addSql(`create index "finding_first_seen_at_id_index" on "finding" ("first_seen_at", "id");`);

    this.addSql(`alter table "finding_action" drop constraint "finding_action_action_check";`);
    this.addSql(`alter table "finding_action" add "actor_token_id" uuid null, add "actor_name" varchar(255) null, add "changes" jsonb null;`);
    this.addSql(`alter table "finding_action" alter column "import_id" drop not null;`);
    this.addSql(`alter table "finding_action" add constraint "finding_action_action_check" check ("action" in ('created', 'closed', 'reactivated', 'untouched', 'updated', 'triaged'));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "finding_vulnerability_ids_index";`);
    this.addSql(`drop index "finding_first_seen_at_id_index";`);

    this.addSql(`alter table "finding_action" drop constraint "finding_action_action_check";`);
    this.addSql(`alter table "finding_action" drop column "actor_token_id", drop column "actor_name", drop column "changes";`);
    this.addSql(`alter table "finding_action" alter column "import_id" set not null;`);
    this.addSql(`alter table "finding_action" add constraint "finding_action_action_check" check ("action" in ('created', 'closed', 'reactivated', 'untouched', 'updated'));`);
  }

}
