export {
  createSandbox,
  type Sandbox,
  type SandboxOptions,
  type SandboxSettings,
  type SandboxStats,
  type SubmitFailureStatus,
} from "./sandbox";
export { type StartedSandbox, sandboxOptionsFromEnv, startSandbox } from "./server";
