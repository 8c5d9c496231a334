import { useEffect, useState } from "preact/hooks";
import { apiFetch, type Credential } from "../api";
import { ErrorNote, Loaded, Section, useAction, useApi } from "../ui/shared";
import { LiveTask } from "./tasks";

interface Parameter {
  type: string;
  enum?: (string | number)[];
  default?: unknown;
  required?: boolean;
  minimum?: number;
  maximum?: number;
}
export interface Model {
  id: string;
  kind: "image" | "video";
  parameters: Record<string, Parameter>;
  /** Per door (native, nanobanana, …): the model's price list there. */
  prices?: Record<string, unknown>;
}

/** A form field for one of the model's parameters, as `GET /v1/models` describes it. */
function Field(props: {
  name: string;
  spec: Parameter;
  value: unknown;
  onInput: (v: unknown) => void;
}) {
  const { name, spec, value } = props;
  const label = `${name}${spec.required ? " *" : ""}`;
  if (spec.enum) {
    return (
      <label>
        {label}
        <select
          value={String(value ?? spec.default ?? "")}
          onChange={(e) => props.onInput((e.target as HTMLSelectElement).value)}
        >
          {!spec.required && spec.default === undefined && <option value="">—</option>}
          {spec.enum.map((option) => (
            <option key={String(option)} value={String(option)}>
              {String(option)}
            </option>
          ))}
        </select>
      </label>
    );
  }
  if (spec.type === "integer" || spec.type === "number") {
    return (
      <label>
        {label}
        <input
          type="number"
          min={spec.minimum}
          max={spec.maximum}
          value={value === undefined ? String(spec.default ?? "") : String(value)}
          onInput={(e) => {
            const raw = (e.target as HTMLInputElement).value;
            props.onInput(raw === "" ? undefined : Number(raw));
          }}
        />
      </label>
    );
  }
  if (spec.type === "boolean") {
    return (
      <label class="check">
        <input
          type="checkbox"
          checked={Boolean(value ?? spec.default)}
          onChange={(e) => props.onInput((e.target as HTMLInputElement).checked)}
        />
        {label}
      </label>
    );
  }
  if (spec.type === "string" && name === "prompt") {
    return (
      <label class="wide">
        {label}
        <textarea
          name={name}
          rows={3}
          required={spec.required}
          value={String(value ?? "")}
          onInput={(e) => props.onInput((e.target as HTMLTextAreaElement).value)}
        />
      </label>
    );
  }
  if (spec.type === "string") {
    return (
      <label>
        {label}
        <input
          name={name}
          value={String(value ?? "")}
          onInput={(e) => props.onInput((e.target as HTMLInputElement).value || undefined)}
        />
      </label>
    );
  }
  return null; // arrays and objects (reference images…) are left to the API and the CLI
}

/** The input the form holds, with enum values typed as their schema says. */
function inputOf(model: Model, values: Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === "") continue;
    const spec = model.parameters[name];
    input[name] = spec?.enum && typeof spec.enum[0] === "number" ? Number(value) : value;
  }
  return input;
}

export function CreatePage({ credential }: { credential: Credential }) {
  const models = useApi<{ models: Model[] }>(credential, "/v1/models");
  const [modelId, setModelId] = useState("");
  const [values, setValues] = useState<Record<string, unknown>>({});
  const [price, setPrice] = useState<{ credits?: number; error?: string }>({});
  const [created, setCreated] = useState<{ id: string; kind: Model["kind"] }[]>([]);
  const action = useAction();
  const model = models.data?.models.find((m) => m.id === modelId) ?? models.data?.models[0];

  // The price of exactly what would be sent, before it is sent.
  useEffect(() => {
    if (!model || !values.prompt) {
      setPrice({});
      return;
    }
    const timer = setTimeout(() => {
      apiFetch<{ credits: number }>("/v1/cost", {
        credential,
        body: { model: model.id, input: inputOf(model, values) },
      }).then(
        (cost) => setPrice({ credits: cost.credits }),
        (error: Error) => setPrice({ error: error.message }),
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [credential, model, values]);

  return (
    <Section title="Create a generation">
      <Loaded state={models}>
        {() =>
          model && (
            <form
              class="create"
              onSubmit={(e) => {
                e.preventDefault();
                void action.run(async () => {
                  const path =
                    model.kind === "video" ? "/v1/videos/generations" : "/v1/images/generations";
                  const res = await apiFetch<{ taskId: string }>(path, {
                    credential,
                    body: { model: model.id, input: inputOf(model, values) },
                  });
                  setCreated((list) => [{ id: res.taskId, kind: model.kind }, ...list]);
                });
              }}
            >
              <label>
                Model
                <select
                  value={model.id}
                  onChange={(e) => {
                    setModelId((e.target as HTMLSelectElement).value);
                    setValues((v) => ({ prompt: v.prompt }));
                  }}
                >
                  {models.data?.models.map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.id} ({m.kind})
                    </option>
                  ))}
                </select>
              </label>
              {Object.entries(model.parameters).map(([name, spec]) => (
                <Field
                  key={`${model.id}:${name}`}
                  name={name}
                  spec={spec}
                  value={values[name]}
                  onInput={(v) => setValues({ ...values, [name]: v })}
                />
              ))}
              <p class="price" aria-live="polite">
                {price.credits !== undefined
                  ? `Price: ${price.credits} credits`
                  : price.error
                    ? price.error
                    : "Price: enter a prompt"}
              </p>
              <button type="submit" disabled={action.busy || !values.prompt}>
                Generate
              </button>
              <ErrorNote error={action.error} />
            </form>
          )
        }
      </Loaded>
      {created.length > 0 && (
        <div class="created">
          {created.map((task) => (
            <LiveTask key={task.id} credential={credential} id={task.id} kind={task.kind} />
          ))}
        </div>
      )}
    </Section>
  );
}
