import { z } from 'zod';

/**
 * The parts of Dependency-Track's v1 API answers this connector reads. Loose objects: Dependency-Track adds
 * fields between versions, and the whole item is kept as `raw` anyway.
 */
export const dtProject = z.looseObject({
  uuid: z.string().min(1),
  name: z.string(),
  version: z.string().nullish(),
  description: z.string().nullish(),
  classifier: z.string().nullish(),
  active: z.boolean().nullish(),
  inactiveSince: z.union([z.number(), z.string()]).nullish(),
  lastBomImport: z.union([z.number(), z.string()]).nullish(),
  tags: z.array(z.looseObject({ name: z.string() })).nullish(),
  parent: z.looseObject({ uuid: z.string() }).nullish(),
});
export type DtProject = z.infer<typeof dtProject>;

const dtAlias = z.record(z.string(), z.unknown());

/** One item of `GET /api/v1/finding/project/{uuid}`: a (component, vulnerability) pair with its analysis. */
export const dtFinding = z.looseObject({
  component: z.looseObject({
    uuid: z.string().min(1),
    name: z.string(),
    group: z.string().nullish(),
    version: z.string().nullish(),
    purl: z.string().nullish(),
    project: z.string().nullish(),
  }),
  vulnerability: z.looseObject({
    uuid: z.string().min(1),
    vulnId: z.string().min(1),
    source: z.string().nullish(),
    title: z.string().nullish(),
    subtitle: z.string().nullish(),
    description: z.string().nullish(),
    recommendation: z.string().nullish(),
    references: z.string().nullish(),
    severity: z.string().nullish(),
    cweId: z.number().nullish(),
    cwes: z.array(z.looseObject({ cweId: z.number() })).nullish(),
    aliases: z.array(dtAlias).nullish(),
    cvssV2BaseScore: z.number().nullish(),
    cvssV2Vector: z.string().nullish(),
    cvssV3BaseScore: z.number().nullish(),
    cvssV3Vector: z.string().nullish(),
    cvssV4Score: z.number().nullish(),
    cvssV4Vector: z.string().nullish(),
  }),
  analysis: z
    .looseObject({
      state: z.string().nullish(),
      isSuppressed: z.boolean().nullish(),
    })
    .nullish(),
  attribution: z.looseObject({ referenceUrl: z.string().nullish() }).nullish(),
  matrix: z.string().nullish(),
});
export type DtFinding = z.infer<typeof dtFinding>;
