import { Migration } from '@mikro-orm/migrations';

export class Migration20261130231145 extends Migration {

  override name = 'Migration20261130231145';

  override up(): void | Promise<void> {
    this.addSql(`alter table "sync_fetch" add "rejected" int not null default 0, add "rejected_reasons" jsonb null;`);

    this.addSql(`alter table "finding_import" add "rejected" int not null default 0, add "rejected_reasons" jsonb null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "finding_import" drop column "rejected", drop column "rejected_reasons";`);

    this.addSql(`alter table "sync_fetch" drop column "rejected", drop column "rejected_reasons";`);
  }

}
