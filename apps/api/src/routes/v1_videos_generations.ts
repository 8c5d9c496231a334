import type { Principal } from "@ripen/core";
import { createdEnvelope, createOptionsOf, createRequestOf } from "@ripen/dialect-aivideoapi";
import type { Request, Router } from "express";
import { orUnavailable } from "../doors/database-down";
import type { DoorDeps } from "../doors/deps";
import { createNativeTask } from "./native";

/** `POST /v1/videos/generations`: a video task, in the same envelope as an image create. */
export function registerV1VideosGenerations(
  router: Router,
  principalOf: (req: Request) => Principal,
  deps: DoorDeps,
): void {
  router.post("/v1/videos/generations", async (req, res) => {
    const { taskId } = await orUnavailable(() =>
      createNativeTask(deps, principalOf(req), createRequestOf(req), "video", createOptionsOf(req)),
    );
    res.status(200).json(createdEnvelope(taskId));
  });
}
