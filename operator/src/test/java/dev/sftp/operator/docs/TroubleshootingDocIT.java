package dev.sftp.operator.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.ValidationError;
import dev.sftp.operator.status.Reasons;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** docs/troubleshooting.md has a row for every condition reason the operator can set. */
class TroubleshootingDocIT {
  @Test
  void everyReasonIsDocumented() throws Exception {
    List<String> reasons = new ArrayList<>();
    for (Field f : Reasons.class.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
        reasons.add((String) f.get(null));
      }
    }
    for (ValidationError.Reason r : ValidationError.Reason.values()) {
      reasons.add(r.conditionReason());
    }
    String doc = Files.readString(Path.of("../docs/troubleshooting.md"));
    assertThat(reasons).hasSizeGreaterThan(30).allSatisfy(r -> assertThat(doc).as("docs/troubleshooting.md names " + r).contains("`" + r + "`"));
  }
}
