package dev.sftp.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CRDs committed under crds/ are the ones this build generates from the Java classes. */
class CrdsUpToDateIT {
  @Test
  void committedCrdsMatchTheGeneratedOnes() throws Exception {
    for (String f : List.of("sftpgateways.sftp.dev-v1.yml", "sftpusers.sftp.dev-v1.yml")) {
      Path generated = Path.of("target/kubernetes", f);
      Path committed = Path.of("../crds", f);
      assertThat(generated).exists();
      assertThat(Files.readString(committed))
          .as("crds/" + f + " is stale: copy operator/target/kubernetes/" + f + " to crds/ after changing the model")
          .isEqualTo(Files.readString(generated));
      assertThat(Files.readString(Path.of("../helm/sftp-operator/files/crds", f)))
          .as("helm/sftp-operator/files/crds/" + f + " is stale: copy crds/" + f + " there")
          .isEqualTo(Files.readString(generated));
    }
  }
}
