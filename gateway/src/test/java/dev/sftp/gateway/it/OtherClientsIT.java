package dev.sftp.gateway.it;

import static dev.sftp.gateway.it.OpenSshSftpIT.ok;
import static dev.sftp.gateway.it.OpenSshSftpIT.randomFile;
import static dev.sftp.gateway.it.OpenSshSftpIT.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** lftp, curl (libssh2) and python3 paramiko, with keys and with passwords. */
class OtherClientsIT {
  @TempDir static Path tmp;
  static TestGateway gw;

  @BeforeAll
  static void start() {
    gw = TestGateway.start(tmp.resolve("gw"), TestGateway.user("dave", "ed25519", "rsa"));
  }

  @AfterAll
  static void stop() throws IOException {
    gw.close();
  }

  @Test
  void lftpWithPasswordAndKey() throws Exception {
    Path src = randomFile(tmp.resolve("local/lftp.bin"), 2_000_000, 41);
    Proc.Result r = ok(Clients.lftp(gw, Login.password("dave", TestGateway.PASSWORD),
        "mkdir -p lftpdir", "put " + src + " -o lftpdir/lftp.bin", "cls -l lftpdir", "mv lftpdir/lftp.bin lftpdir/moved.bin"));
    assertThat(r.out()).contains("lftp.bin");
    assertThat(sha256(gw.home("dave").resolve("lftpdir/moved.bin"))).isEqualTo(sha256(src));
    Path back = tmp.resolve("local/lftp.back");
    ok(Clients.lftp(gw, Login.key("dave", "ed25519"), "get lftpdir/moved.bin -o " + back, "rm lftpdir/moved.bin", "rmdir lftpdir"));
    assertThat(sha256(back)).isEqualTo(sha256(src));
    assertThat(gw.home("dave").resolve("lftpdir")).doesNotExist();
  }

  @Test
  void lftpMirrorsADirectoryTree() throws Exception {
    Path dir = tmp.resolve("local/tree");
    for (int i = 0; i < 50; i++) {
      Path f = dir.resolve("d" + (i % 5)).resolve("f" + i);
      Files.createDirectories(f.getParent());
      Files.writeString(f, "content " + i);
    }
    ok(Clients.lftp(gw, Login.key("dave", "ed25519"), "mirror -R " + dir + " tree"));
    assertThat(gw.home("dave").resolve("tree/d3/f8")).hasContent("content 8");
    Path back = tmp.resolve("local/tree-back");
    ok(Clients.lftp(gw, Login.key("dave", "ed25519"), "mirror tree " + back));
    assertThat(back.resolve("d4/f49")).hasContent("content 49");
  }

  @Test
  void curlUploadsListsDownloadsAndResumes() throws Exception {
    Path src = randomFile(tmp.resolve("local/curl.bin"), 3_000_000, 42);
    ok(Clients.curl(gw, Login.password("dave", TestGateway.PASSWORD), "/curl.bin", "-T", src.toString()));
    assertThat(sha256(gw.home("dave").resolve("curl.bin"))).isEqualTo(sha256(src));
    Proc.Result list = ok(Clients.curl(gw, Login.key("dave", "ed25519"), "/"));
    assertThat(list.out()).contains("curl.bin").contains("3000000");
    Path back = tmp.resolve("local/curl.back");
    ok(Clients.curl(gw, Login.key("dave", "ed25519"), "/curl.bin", "-o", back.toString()));
    assertThat(sha256(back)).isEqualTo(sha256(src));
    // libssh2 1.10 (Debian 12) signs with SHA-1 "ssh-rsa" only, which the gateway refuses, as
    // OpenSSH 8.8+ does: RSA keys work with curl from libssh2 1.11 on.
    assertThat(Clients.curl(gw, Login.key("dave", "rsa"), "/curl.bin", "-o", back.toString()).exit()).isEqualTo(67);
    // Resume a download from where the local file stops.
    byte[] all = Files.readAllBytes(src);
    Path partial = tmp.resolve("local/curl.part");
    Files.write(partial, java.util.Arrays.copyOf(all, 1_234_567));
    ok(Clients.curl(gw, Login.key("dave", "ed25519"), "/curl.bin", "-C", "-", "-o", partial.toString()));
    assertThat(sha256(partial)).isEqualTo(sha256(src));
    // curl's quote commands: rename and delete.
    ok(Clients.curl(gw, Login.key("dave", "ed25519"), "/", "-Q", "rename /curl.bin /curl2.bin", "-Q", "rm /curl2.bin"));
    assertThat(gw.home("dave").resolve("curl.bin")).doesNotExist();
    assertThat(gw.home("dave").resolve("curl2.bin")).doesNotExist();
  }

  @Test
  void curlWithWrongPasswordIsRefused() {
    Proc.Result r = Clients.curl(gw, Login.password("dave", "nope"), "/");
    assertThat(r.exit()).isEqualTo(67); // CURLE_LOGIN_DENIED
  }

  @Test
  void paramikoWithKeyAndPassword() throws Exception {
    String script = """
        client.connect(**kw)
        sftp = client.open_sftp()
        data = os.urandom(1 << 20)
        with sftp.open('pm.bin', 'wb') as f:
            f.set_pipelined(True)
            f.write(data)
        assert sftp.stat('pm.bin').st_size == len(data)
        with sftp.open('pm.bin', 'rb') as f:
            assert f.read() == data
        sftp.mkdir('pmdir')
        sftp.posix_rename('pm.bin', 'pmdir/pm2.bin')
        sftp.chmod('pmdir/pm2.bin', 0o600)
        st = sftp.stat('pmdir/pm2.bin')
        assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
        sftp.utime('pmdir/pm2.bin', (1600000000, 1600000000))
        assert sftp.stat('pmdir/pm2.bin').st_mtime == 1600000000
        sftp.symlink('pmdir/pm2.bin', 'pmlink')
        assert sftp.readlink('pmlink') == 'pmdir/pm2.bin', sftp.readlink('pmlink')
        names = sorted(a.filename for a in sftp.listdir_attr('pmdir'))
        assert names == ['pm2.bin'], names
        assert sftp.normalize('../..') == '/'
        try:
            sftp.rmdir('pmdir')
            raise SystemExit('non-empty rmdir succeeded')
        except IOError:
            pass
        sftp.remove('pmlink')
        sftp.remove('pmdir/pm2.bin')
        sftp.rmdir('pmdir')
        print('sha', hashlib.sha256(data).hexdigest())
        print('paramiko ok')
        """;
    Proc.Result key = ok(Clients.paramiko(gw, Login.key("dave", "ed25519"), script));
    assertThat(key.out()).contains("paramiko ok");
    Proc.Result rsa = ok(Clients.paramiko(gw, Login.key("dave", "rsa"), script));
    assertThat(rsa.out()).contains("paramiko ok");
    Proc.Result pw = ok(Clients.paramiko(gw, Login.password("dave", TestGateway.PASSWORD), script));
    assertThat(pw.out()).contains("paramiko ok");
    Proc.Result wrong = Clients.paramiko(gw, Login.password("dave", "wrong"), "client.connect(**kw)");
    assertThat(wrong.exit()).isNotZero();
    assertThat(wrong.err()).contains("AuthenticationException");
  }
}
