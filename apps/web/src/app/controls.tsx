import { useId, type ReactNode } from 'react';

/** A label tied to one control; `children` receives the id to put on the control. */
export function LabelledControl({ label, children }: { label: string; children: (id: string) => ReactNode }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children(id)}
    </div>
  );
}

/** A radio group drawn as a segmented button row: arrow keys move between options, as radios do. */
export function SegmentedChoice<T extends string>(props: {
  legend: string;
  hideLegend?: boolean;
  name: string;
  options: ReadonlyArray<{ value: T; label: string }>;
  value: T;
  onChange: (value: T) => void;
}) {
  return (
    <fieldset className="segmented">
      <legend className={props.hideLegend ? 'visually-hidden' : undefined}>{props.legend}</legend>
      {props.options.map((option) => (
        <label key={option.value} className={props.value === option.value ? 'selected' : undefined}>
          <input type="radio" name={props.name} value={option.value} checked={props.value === option.value} onChange={() => props.onChange(option.value)} />
          {option.label}
        </label>
      ))}
    </fieldset>
  );
}
