/** The signed-in app's sections, as links: the current one is marked for screen readers too. */
export function Nav(props: {
  items: readonly (readonly [href: string, label: string])[];
  route: string;
}) {
  const current = `#${props.route.split("?")[0]}`;
  return (
    <nav class="sections" aria-label="Sections">
      {props.items.map(([href, label]) => (
        <a key={href} href={href} aria-current={current === href ? "page" : undefined}>
          {label}
        </a>
      ))}
    </nav>
  );
}
