import { Migration } from '@mikro-orm/migrations';

export class Migration20261201031500 extends Migration {

  override name = 'Migration20261201031500';

  override up(): void | Promise<void> {
    this.addSql(`create table "tool_api_call" ("tool" varchar(64) not null, "error_type" varchar(32) not null, "calls" bigint not null, constraint "tool_api_call_pkey" primary key ("tool", "error_type"));`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "tool_api_call" cascade;`);
  }

}
