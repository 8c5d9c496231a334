import { useEffect, useRef } from "preact/hooks";
import type { Credential } from "../api";
import { Nav } from "../ui/nav";
import { AccountPage } from "./account";
import { AccountsPage } from "./accounts";
import { ProvidersPage, QueuesPage } from "./health";
import { LedgerPage } from "./ledger";
import { PlansPage } from "./plans";
import { UsagePage } from "./usage";

const sections = [
  ["#/", "Accounts"],
  ["#/op/plans", "Plans"],
  ["#/op/providers", "Providers"],
  ["#/op/queues", "Queues"],
  ["#/op/usage", "Usage & margin"],
  ["#/op/ledger", "Ledger"],
] as const;

function page(credential: Credential, path: string): preact.JSX.Element {
  if (path.startsWith("/op/account/")) {
    const id = path.slice("/op/account/".length);
    return <AccountPage key={id} credential={credential} id={id} />;
  }
  switch (path) {
    case "/op/plans":
      return <PlansPage credential={credential} />;
    case "/op/providers":
      return <ProvidersPage credential={credential} />;
    case "/op/queues":
      return <QueuesPage credential={credential} />;
    case "/op/usage":
      return <UsagePage credential={credential} />;
    case "/op/ledger":
      return <LedgerPage credential={credential} />;
    default:
      return <AccountsPage credential={credential} />;
  }
}

/** The operator's console: `route` is the location hash without its `#`. */
export function OperatorApp({ credential, route }: { credential: Credential; route: string }) {
  const path = route.split("?")[0] ?? "/";
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  // A keyboard or screen-reader user lands at the new page's top, not on the link just used.
  useEffect(() => {
    if (first.current) first.current = false;
    else main.current?.focus({ preventScroll: false });
  }, [path]);
  return (
    <>
      <Nav items={sections} route={route} />
      <main ref={main} tabIndex={-1} class="op">
        {page(credential, path)}
      </main>
    </>
  );
}
