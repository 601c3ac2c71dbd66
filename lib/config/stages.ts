/** The three deployment environments: one CDK stage and one environment config each. */
export const STAGES = ['dev', 'staging', 'prod'] as const;
export type Stage = (typeof STAGES)[number];
