#!/usr/bin/env python3
"""Structural check of dashboards/certwatch.json against Grafana's own TypeScript types.

There is no Grafana server here, so the dashboard is checked the way Grafana's frontend types it:
this script writes a TypeScript file that states the dashboard `satisfies Dashboard` (from the
`@grafana/schema` npm package) and every panel's `options` / `fieldConfig.defaults.custom`
`satisfies` the panel plugin's generated `Options` / `FieldConfig` types, then runs `tsc --noEmit`.
Object literals get excess-property checks, so a misspelt or unknown key fails.

Grafana's types use TypeScript string enums (FieldColorModeId, ThresholdsMode, ...) that plain
JSON strings can never satisfy, so `Loose<T>` maps every enum to the union of its string values.
Two deliberate relaxations, both for keys Grafana itself writes when it saves a dashboard but that
the generated schema does not declare:
  - templating variables may carry `definition` (the query text shown in the editor);
  - annotations may carry the Prometheus fields `expr`, `step`, `titleFormat`, `textFormat`,
    `tagKeys`, `useValueForTime` (the classic Prometheus annotation form Grafana still migrates).

Usage: check-dashboard-types.py DASHBOARD.json NODE_MODULES_DIR   (exit 0 = ok)
NODE_MODULES_DIR must contain @grafana/schema and typescript (scripts/check-deploy.py installs them).
"""
import json
import os
import subprocess
import sys
import tempfile

PANEL_TYPES = {
    # panel type -> (directory under raw/composable, file prefix, has FieldConfig)
    "stat": ("stat", "StatPanelCfg", False),
    "bargauge": ("bargauge", "BarGaugePanelCfg", False),
    "table": ("table", "TablePanelCfg", True),
    "timeseries": ("timeseries", "TimeSeriesPanelCfg", True),
    "state-timeline": ("statetimeline", "StateTimelinePanelCfg", True),
}

PRELUDE = """\
import type { Dashboard, AnnotationQuery, VariableModel } from '@grafana/schema';
type Loose<T> = T extends string ? `${T}` :
  T extends number | boolean | null | undefined ? T :
  T extends readonly (infer U)[] ? Loose<U>[] :
  T extends object ? { [K in keyof T]: Loose<T[K]> } : T;
type PromAnnotation = Loose<AnnotationQuery> & {
  expr?: string; step?: string; titleFormat?: string; textFormat?: string; tagKeys?: string; useValueForTime?: boolean;
};
type SavedVariable = Loose<VariableModel> & { definition?: string };
type SavedDashboard = Omit<Loose<Dashboard>, 'annotations' | 'templating'> & {
  annotations?: { list?: PromAnnotation[] };
  templating?: { list?: SavedVariable[] };
};
"""


def panels_of(dash):
    for p in dash.get("panels", []):
        yield p
        yield from p.get("panels", []) if p.get("type") == "row" else []


def main():
    dash_path, modules = sys.argv[1], os.path.abspath(sys.argv[2])
    with open(dash_path, encoding="utf-8") as f:
        dash = json.load(f)
    composable = os.path.join(modules, "@grafana", "schema", "dist", "esm", "raw", "composable")
    lines = [PRELUDE]
    imported = set()
    body = [f"export const dashboard = ({json.dumps(dash, indent=1)}) satisfies SavedDashboard;"]
    unknown = []
    for p in panels_of(dash):
        ptype = p.get("type")
        if ptype == "row":
            continue
        if ptype not in PANEL_TYPES:
            unknown.append(f"panel {p.get('id')} {p.get('title')!r}: type {ptype!r} has no type mapping here")
            continue
        directory, prefix, has_fc = PANEL_TYPES[ptype]
        alias = "P_" + directory
        if alias not in imported:
            path = os.path.join(composable, directory, "panelcfg", "x", f"{prefix}_types.gen")
            lines.append(f"import type * as {alias} from {json.dumps(path)};")
            imported.add(alias)
        pid = p.get("id")
        body.append(f"export const options_{pid} = ({json.dumps(p.get('options', {}))}) satisfies Loose<{alias}.Options>;")
        custom = p.get("fieldConfig", {}).get("defaults", {}).get("custom")
        if has_fc and custom is not None:
            body.append(f"export const custom_{pid} = ({json.dumps(custom)}) satisfies Loose<{alias}.FieldConfig>;")
    if unknown:
        print("\n".join(unknown), file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "dashboard-check.ts")
        with open(src, "w", encoding="utf-8") as f:
            f.write("\n".join(lines + body) + "\n")
        cfg = os.path.join(tmp, "tsconfig.json")
        with open(cfg, "w", encoding="utf-8") as f:
            json.dump({"compilerOptions": {"strict": True, "noEmit": True, "module": "esnext",
                                           "moduleResolution": "bundler", "target": "es2022",
                                           "skipLibCheck": True, "typeRoots": [],
                                           "baseUrl": tmp, "paths": {"@grafana/schema": [os.path.join(modules, "@grafana", "schema")]}},
                       "files": [src]}, f)
        tsc = os.path.join(modules, "typescript", "bin", "tsc")
        r = subprocess.run(["node", tsc, "-p", cfg], capture_output=True, text=True, cwd=tmp)
        if r.returncode != 0:
            kept = os.path.join(tempfile.gettempdir(), "certwatch-dashboard-check.ts")
            with open(src, encoding="utf-8") as f, open(kept, "w", encoding="utf-8") as g:
                g.write(f.read())
            print(r.stdout + r.stderr, file=sys.stderr)
            print(f"{dash_path}: does not match the @grafana/schema types (tsc errors above; line "
                  f"numbers refer to the generated {kept})", file=sys.stderr)
            return 1
    print(f"{dash_path}: matches @grafana/schema dashboard and panel types")
    return 0


if __name__ == "__main__":
    sys.exit(main())
