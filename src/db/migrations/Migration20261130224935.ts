import { Migration } from '@mikro-orm/migrations';

/**
 * Findings are owned by the Record that reported them (SPEC §1): findings and imports get `record_id`,
 * backfilled from the fetches their imports applied, and the match indexes lead with (Test, Record). The
 * last sighting of open findings moves from the Test's latest import to its Record's, so the sighting the
 * old rule implied is written onto the findings first.
 */
export class Migration20261130224935 extends Migration {

  override name = 'Migration20261130224935';

  override up(): void | Promise<void> {
    this.addSql(`update "finding" f set "last_seen_at" = greatest(f."last_seen_at", t."last_imported_at")
      from "test" t
      where t."id" = f."test_id" and t."last_imported_at" is not null and f."active" and not f."triaged_by_person"
        and (f."person_triaged_at" is null or f."person_triaged_at" < t."last_imported_at");`);
    this.addSql(`alter table "test" drop column "last_imported_at";`);

    this.addSql(`drop index "finding_test_id_hash_code_index";`);
    this.addSql(`drop index "finding_test_id_unique_id_from_tool_index";`);
    this.addSql(`drop index "finding_test_id_active_index";`);
    this.addSql(`alter table "finding" add "record_id" uuid null;`);
    this.addSql(`create index "finding_test_id_record_id_unique_id_from_tool_index" on "finding" ("test_id", "record_id", "unique_id_from_tool") include ("active", "is_mitigated", "triaged_by_person", "tool_fields_hash");`);
    this.addSql(`create index "finding_test_id_record_id_hash_code_index" on "finding" ("test_id", "record_id", "hash_code") include ("active", "is_mitigated", "triaged_by_person", "tool_fields_hash");`);
    this.addSql(`create index "finding_test_id_record_id_is_mitigated_index" on "finding" ("test_id", "record_id", "is_mitigated") include ("id", "triaged_by_person");`);
    this.addSql(`create index "finding_test_id_active_index" on "finding" ("test_id", "active") include ("severity");`);

    this.addSql(`alter table "finding_import" add "record_id" uuid null;`);
    this.addSql(`create index "finding_import_test_id_record_id_created_at_index" on "finding_import" ("test_id", "record_id", "created_at");`);

    // An import applied one Record's fetch; an import without its fetch row any more has its single-record Operation.
    this.addSql(`update "finding_import" i set "record_id" = coalesce(
        (select sf."record_id" from "sync_fetch" sf where sf."id" = i."fetch_id"),
        (select o."record_id" from "operation" o where o."id" = i."operation_id"))
      where i."record_id" is null;`);
    // A finding belongs to the Record whose import last acted on it.
    this.addSql(`update "finding" f set "record_id" = last_import."record_id"
      from (select distinct on (a."finding_id") a."finding_id", i."record_id"
            from "finding_action" a join "finding_import" i on i."id" = a."import_id"
            where i."record_id" is not null
            order by a."finding_id", i."created_at" desc) last_import
      where last_import."finding_id" = f."id" and f."record_id" is null;`);
    // Otherwise, when one Record of the Test's connector is mapped to its Product, that Record reported it.
    this.addSql(`update "finding" f set "record_id" = only_record."id"
      from "test" t join "engagement" e on e."id" = t."engagement_id"
      join lateral (select min(r."id"::text)::uuid as "id", count(*) as n from "tool_record" r
                    where r."connector_id" = t."connector_id" and r."product_id" = e."product_id") only_record on only_record.n = 1
      where t."id" = f."test_id" and f."record_id" is null;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop index "finding_test_id_record_id_unique_id_from_tool_index";`);
    this.addSql(`drop index "finding_test_id_record_id_hash_code_index";`);
    this.addSql(`drop index "finding_test_id_record_id_is_mitigated_index";`);
    this.addSql(`drop index "finding_test_id_active_index";`);
    this.addSql(`alter table "finding" drop column "record_id";`);
    this.addSql(`create index "finding_test_id_hash_code_index" on "finding" ("test_id", "hash_code") include ("active", "is_mitigated", "triaged_by_person", "tool_fields_hash");`);
    this.addSql(`create index "finding_test_id_unique_id_from_tool_index" on "finding" ("test_id", "unique_id_from_tool") include ("active", "is_mitigated", "triaged_by_person", "tool_fields_hash");`);
    this.addSql(`create index "finding_test_id_active_index" on "finding" ("test_id", "active") include ("id", "severity", "is_mitigated", "triaged_by_person");`);

    this.addSql(`drop index "finding_import_test_id_record_id_created_at_index";`);
    this.addSql(`alter table "finding_import" drop column "record_id";`);

    this.addSql(`alter table "test" add "last_imported_at" timestamptz(6) null;`);
  }

}
