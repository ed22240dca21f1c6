// The object shapes every controller reads, independent of any one kind.

/** Where a custom kind lives in the API, for the generic custom-object calls. */
export interface CustomResource {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

/** The parts of an object's metadata every controller reads. */
export interface ObjectMeta {
  namespace?: string;
  name?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  deletionTimestamp?: Date | string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface CustomObject<Spec = unknown, Status = unknown> {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: Spec;
  status?: Status;
}
