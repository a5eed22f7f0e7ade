/** Names used in URLs and SQL are validated first (07 §4 BigQuery). */
export const PROJECT_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const OBJECT_NAME_PATTERN = /^[A-Za-z0-9_]{1,1024}$/;

export const isObjectName = (name: string): boolean => OBJECT_NAME_PATTERN.test(name);
