// Validates every object of the given YAML files: Kubernetes kinds against the Kubernetes
// schemas (kubernetes-models' validators, generated from the OpenAPI of Kubernetes), Prometheus
// Operator kinds against theirs, sftp.dev kinds against the project's CRDs (crds/*.yml, their
// openAPIV3Schema, with ajv). Exits 1 on any invalid object or unknown kind (unless listed with
// --allow-kind). Usage: node validate.mjs [--allow-kind KIND]... FILE...
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import Ajv from "ajv";

const here = dirname(fileURLToPath(import.meta.url));
const crdDir = join(here, "..", "..", "crds");
const ajv = new Ajv({ strict: false, allErrors: true });
const crdValidators = {};
for (const f of readdirSync(crdDir).filter((f) => f.endsWith(".yml"))) {
  const crd = YAML.parse(readFileSync(join(crdDir, f), "utf8"));
  for (const v of crd.spec.versions) {
    crdValidators[`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`] = ajv.compile(v.schema.openAPIV3Schema);
  }
}

const allowed = new Set();
const files = [];
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === "--allow-kind") allowed.add(process.argv[++i]);
  else files.push(process.argv[i]);
}

async function model(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  const candidates = group === "monitoring.coreos.com"
    ? [`@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`]
    : [`kubernetes-models/${group ? group + "/" : ""}${version}/${kind}`];
  for (const c of candidates) {
    try {
      return (await import(c))[kind];
    } catch (e) {
      if (e.code !== "ERR_MODULE_NOT_FOUND" && e.code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw e;
    }
  }
  return null;
}

let bad = 0;
let checked = 0;
const counts = {};
for (const file of files) {
  for (const doc of YAML.parseAllDocuments(readFileSync(file, "utf8"))) {
    const obj = doc.toJS();
    if (!obj || !obj.kind) continue;
    if (!obj.apiVersion || !obj.metadata) {
      if (allowed.has(obj.kind)) continue;
      console.error(`${file}: ${obj.kind} without apiVersion or metadata`);
      bad++;
      continue;
    }
    const where = `${file}: ${obj.kind} ${obj.metadata.namespace ? obj.metadata.namespace + "/" : ""}${obj.metadata.name}`;
    const crd = crdValidators[`${obj.apiVersion}/${obj.kind}`];
    if (crd) {
      if (!crd(obj)) {
        console.error(`${where}: ${ajv.errorsText(crd.errors)}`);
        bad++;
        continue;
      }
    } else {
      const Model = await model(obj.apiVersion, obj.kind);
      if (!Model) {
        if (allowed.has(obj.kind)) continue;
        console.error(`${where}: no schema known for ${obj.apiVersion} ${obj.kind}`);
        bad++;
        continue;
      }
      try {
        new Model(obj).validate();
      } catch (e) {
        console.error(`${where}: ${e.message}`);
        bad++;
        continue;
      }
    }
    checked++;
    counts[obj.kind] = (counts[obj.kind] || 0) + 1;
  }
}
console.log(`validated ${checked} objects (${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ")}), ${bad} invalid`);
process.exit(bad ? 1 : 0);
