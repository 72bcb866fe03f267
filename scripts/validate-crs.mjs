// Validates prometheus-operator custom resources (ServiceMonitor, PrometheusRule) against the CRD
// OpenAPI schemas shipped in the npm package @kubernetes-models/prometheus-operator: types, enums,
// required fields. (CRD schemas allow unknown fields, which the API server prunes.) There is no
// such validator on PyPI, hence this helper of scripts/check-deploy.py, which installs the package.
//
// Usage: node scripts/validate-crs.mjs NODE_MODULES_DIR RESOURCES.json
//   RESOURCES.json: a JSON array of the resources (check-deploy.py converts the YAML manifests).
// Exit status 0 when every resource is valid.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [modules, file] = process.argv.slice(2);
const v1 = await import(
  pathToFileURL(`${modules}/@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/index.js`).href
);
let bad = 0;
for (const doc of JSON.parse(readFileSync(file, 'utf8'))) {
  const name = `${doc.kind}/${doc.metadata.name}`;
  try {
    new v1[doc.kind](doc).validate();
    console.log(`${name}: valid`);
  } catch (e) {
    bad++;
    console.log(`${name}: ${e.message}`);
  }
}
process.exit(bad ? 1 : 0);
