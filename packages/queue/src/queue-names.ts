export const queueNames = {
  tasks: "tasks",
  maintenance: "maintenance",
  /** Client callbacks, apart: a slow or dead client endpoint never holds up task work. */
  deliveries: "deliveries",
  /** Schedules' firings (one BullMQ job scheduler per active schedule). */
  schedules: "schedules",
} as const;
export type QueueName = (typeof queueNames)[keyof typeof queueNames];
