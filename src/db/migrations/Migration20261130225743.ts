import { Migration } from '@mikro-orm/migrations';

/** Stages the tool's `verified` flag with each fetched finding, so the reimport can write and refresh it. */
export class Migration20261130225743 extends Migration {

  override name = 'Migration20261130225743';

  override up(): void | Promise<void> {
    this.addSql(`alter table "staged_finding" add "verified" boolean not null default false;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "staged_finding" drop column "verified";`);
  }

}
