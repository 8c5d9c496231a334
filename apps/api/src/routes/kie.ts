import express, { type Router } from "express";
import type { DoorDeps, DoorRouterOptions } from "../doors/deps";

/** Placeholder: the kie door is not served yet. */
export function createKieDoor(_deps: DoorDeps, _options: DoorRouterOptions): Router {
  return express.Router();
}
