import type { Credential } from "../api";
import { Nav } from "../ui/nav";
import { CreditsPage, KeysPage } from "./account";
import { BatchesPage } from "./batches";
import { CreatePage } from "./create";
import { SchedulesPage } from "./schedules";
import { Gallery, TaskPage } from "./tasks";

const sections = [
  ["#/", "Generations"],
  ["#/create", "Create"],
  ["#/batches", "Batches"],
  ["#/schedules", "Schedules"],
  ["#/credits", "Credits"],
  ["#/keys", "API keys"],
] as const;

/** A client's console: `route` is the location hash without its `#` (`/task/task_…`, `/?status=…`). */
export function ClientApp({ credential, route }: { credential: Credential; route: string }) {
  const [path = "/", query = ""] = route.split("?");
  let page: preact.JSX.Element;
  if (path.startsWith("/task/")) page = <TaskPage credential={credential} id={path.slice(6)} />;
  else if (path === "/create") page = <CreatePage credential={credential} />;
  else if (path === "/batches") page = <BatchesPage credential={credential} />;
  else if (path === "/schedules") page = <SchedulesPage credential={credential} />;
  else if (path === "/credits") page = <CreditsPage credential={credential} />;
  else if (path === "/keys") page = <KeysPage credential={credential} />;
  else page = <Gallery credential={credential} key={query} query={query} />;
  return (
    <>
      <Nav items={sections} route={route} />
      <main>{page}</main>
    </>
  );
}
