package dev.sftp.operator.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * docs/reference.md, the custom resources' reference, is generated from the committed CRDs (their
 * OpenAPI schemas, whose descriptions come from the model classes): this test writes what it
 * should be to operator/target/reference.md and fails when docs/reference.md differs.
 */
class CrdReferenceIT {
  static final List<String> CRDS = List.of("sftpgateways.sftp.dev-v1.yml", "sftpusers.sftp.dev-v1.yml");

  static String generate() throws Exception {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    StringBuilder md = new StringBuilder("""
        # Custom resource reference

        Generated from `crds/` (the schemas the operator's model classes produce) by
        `CrdReferenceIT`: do not edit by hand; after a change of the model, copy
        `operator/target/reference.md` here. Constraints are enforced by the API server.
        """);
    for (String f : CRDS) {
      JsonNode crd = yaml.readTree(Files.readString(Path.of("../crds", f)));
      JsonNode version = crd.path("spec").path("versions").get(0);
      String kind = crd.path("spec").path("names").path("kind").asText();
      md.append("\n## ").append(kind).append(" (`").append(crd.path("spec").path("group").asText()).append('/')
          .append(version.path("name").asText()).append("`)\n");
      JsonNode root = version.path("schema").path("openAPIV3Schema").path("properties");
      for (String part : List.of("spec", "status")) {
        md.append("\n### ").append(part).append("\n\n| field | type | constraints | description |\n|---|---|---|---|\n");
        walk(md, part, root.path(part));
      }
    }
    return md.toString();
  }

  static void walk(StringBuilder md, String path, JsonNode schema) {
    JsonNode props = schema.path("properties");
    for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> e = it.next();
      String p = path + "." + e.getKey();
      JsonNode s = e.getValue();
      String type = s.path("type").asText("");
      JsonNode items = s.path("items");
      if (type.equals("array") && items.isObject()) {
        type = "array of " + items.path("type").asText("object");
      }
      md.append("| `").append(p).append("` | ").append(type).append(" | ").append(constraints(s, items)).append(" | ")
          .append(s.path("description").asText("").replace("|", "\\|").replace("\n", " ")).append(" |\n");
      // Into our own types only: a Kubernetes type embedded as it is (affinity, tolerations,
      // resources, a label selector) carries no descriptions in these CRDs.
      if (s.has("properties") && described(s)) {
        walk(md, p, s);
      } else if (items.has("properties") && described(items)) {
        walk(md, p + "[]", items);
      }
    }
  }

  static boolean described(JsonNode schema) {
    for (JsonNode child : schema.path("properties")) {
      if (child.hasNonNull("description")) {
        return true;
      }
    }
    return false;
  }

  static String constraints(JsonNode s, JsonNode items) {
    StringBuilder c = new StringBuilder();
    for (JsonNode n : List.of(s, items)) {
      if (n.has("pattern")) {
        c.append("pattern `").append(n.path("pattern").asText().replace("|", "\\|")).append("` ");
      }
      if (n.has("minimum")) {
        c.append("≥ ").append(n.path("minimum").asText()).append(' ');
      }
      if (n.has("maximum")) {
        c.append("≤ ").append(n.path("maximum").asText()).append(' ');
      }
      if (n.has("enum")) {
        c.append("one of ").append(n.path("enum").toString().replace("|", "\\|")).append(' ');
      }
    }
    if (s.path("x-kubernetes-validations").isArray()) {
      s.path("x-kubernetes-validations").forEach(v -> c.append(v.path("message").asText()).append(' '));
    }
    return c.toString().trim();
  }

  @Test
  void theReferenceIsGeneratedFromTheCrds() throws Exception {
    String expected = generate();
    Files.writeString(Path.of("target/reference.md"), expected);
    assertThat(Files.readString(Path.of("../docs/reference.md")))
        .as("docs/reference.md is stale: copy operator/target/reference.md there")
        .isEqualTo(expected);
  }
}
