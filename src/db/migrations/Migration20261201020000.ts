import { Migration } from '@mikro-orm/migrations';

export class Migration20261201020000 extends Migration {

  override name = 'Migration20261201020000';

  override up(): void | Promise<void> {
    this.addSql(`create index "finding_import_created_at_index" on "finding_import" ("created_at");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "finding_import_created_at_index";`);
  }

}
