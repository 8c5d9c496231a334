import { useEffect, useState } from "preact/hooks";
import { ApiError, apiFetch, type Credential, whenUnauthorized } from "./api";
import { ClientApp } from "./client";
import { OperatorApp } from "./operator";
import { ErrorNote } from "./ui/shared";

// The credential lives in this tab's sessionStorage only: closing the tab signs out.
const STORAGE = "ripen-console-credential";

function storedCredential(): Credential | null {
  try {
    const raw = sessionStorage.getItem(STORAGE);
    return raw ? (JSON.parse(raw) as Credential) : null;
  } catch {
    return null;
  }
}

function useHash(): string {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => {
    const onChange = () => setHash(location.hash || "#/");
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return hash;
}

function SignIn(props: { onSignedIn: (c: Credential) => void; notice: string | null }) {
  const [kind, setKind] = useState<Credential["kind"]>("client");
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  return (
    <main class="signin">
      <h1>Ripen console</h1>
      {props.notice && (
        <p class="notice" role="alert">
          {props.notice}
        </p>
      )}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          const credential = { kind, token: token.trim() };
          try {
            // A read the credential must be good for: the account's credits, or the accounts list.
            await apiFetch(kind === "client" ? "/v1/credits" : "/admin/v1/accounts?limit=1", {
              credential,
            });
            sessionStorage.setItem(STORAGE, JSON.stringify(credential));
            props.onSignedIn(credential);
          } catch (error) {
            setError(error instanceof ApiError ? error.message : String(error));
          }
        }}
      >
        <fieldset>
          <legend>Sign in as</legend>
          <label class="check">
            <input
              type="radio"
              name="kind"
              checked={kind === "client"}
              onChange={() => setKind("client")}
            />{" "}
            a client, with an API key
          </label>
          <label class="check">
            <input
              type="radio"
              name="kind"
              checked={kind === "operator"}
              onChange={() => setKind("operator")}
            />{" "}
            the operator, with the admin credential
          </label>
        </fieldset>
        <label>
          {kind === "client" ? "API key" : "Admin token (or an admin-scope key)"}
          <input
            name="token"
            type="password"
            autoComplete="off"
            required
            value={token}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit">Sign in</button>
        <ErrorNote error={error} />
      </form>
      <p class="muted">
        <code>npm start</code> prints the demo account's API key and the admin token.
      </p>
    </main>
  );
}

export function App() {
  const [credential, setCredential] = useState<Credential | null>(storedCredential);
  const [notice, setNotice] = useState<string | null>(null);
  const hash = useHash();
  const signOut = (message: string | null) => {
    sessionStorage.removeItem(STORAGE);
    setCredential(null);
    setNotice(message);
  };
  // Any 401 while signed in (a revoked or expired key, a changed admin token) ends the session
  // with its reason; a wrong credential at sign-in is the form's own error instead.
  whenUnauthorized((message) => {
    if (credential) signOut(`You were signed out: ${message}`);
  });
  if (!credential) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(c) => {
          setNotice(null);
          setCredential(c);
          location.hash = "#/";
        }}
      />
    );
  }
  const route = hash.slice(1) || "/";
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          Ripen
        </a>
        <span class="who">
          {credential.kind === "client" ? "Client console" : "Operator console"}
        </span>
        <button type="button" class="quiet" onClick={() => signOut(null)}>
          Sign out
        </button>
      </header>
      {credential.kind === "client" ? (
        <ClientApp credential={credential} route={route} />
      ) : (
        <OperatorApp credential={credential} route={route} />
      )}
    </>
  );
}
