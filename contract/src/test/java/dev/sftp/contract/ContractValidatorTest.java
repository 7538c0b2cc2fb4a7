package dev.sftp.contract;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class ContractValidatorTest {
  static final String ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS test";

  static JsonNode json(String s) throws Exception {
    return ContractJson.mapper().readTree(s.replace('\'', '"'));
  }

  static List<String> userErrors(String user) throws Exception {
    return ContractValidator.validateUser(json(user), "$.users[0]").stream().map(ValidationError::toString).toList();
  }

  @Test
  void aValidUserHasNoErrors() throws Exception {
    assertThat(userErrors("{'name':'alice','home':'tenants/a/alice','authorizedKeys':['" + ED25519 + "'],"
        + "'allowedSourceCidrs':['10.0.0.0/8','2001:db8::/32','192.0.2.7'],'expiresAt':'2030-01-01T00:00:00Z',"
        + "'permissions':['list','read'],'pathRules':[{'path':'/in','permissions':['write']}],'readOnly':false,"
        + "'limits':{'quotaBytes':1073741824,'quotaFiles':0,'uploadBytesPerSecond':8192}}")).isEmpty();
  }

  @Test
  void limitsMustBeWholeNumbersAndBandwidthsServable() throws Exception {
    assertThat(userErrors("{'name':'a','home':'a','authorizedKeys':['" + ED25519 + "'],"
        + "'limits':{'quotaBytes':-1,'quotaFiles':1.5,'uploadBytesPerSecond':100,'downloadBytesPerSecond':'fast','speed':1}}"))
        .containsExactlyInAnyOrder(
            "$.users[0].limits.quotaBytes: expected a whole number of at least 0",
            "$.users[0].limits.quotaFiles: expected a whole number of at least 0",
            "$.users[0].limits.uploadBytesPerSecond: expected a whole number of at least 8192",
            "$.users[0].limits.downloadBytesPerSecond: expected a whole number of at least 8192",
            "$.users[0].limits.speed: unknown field");
  }

  @Test
  void everyErrorComesWithItsJsonPath() throws Exception {
    List<String> errors = userErrors("{'name':'Bad Name','home':'../x','passwordHash':'plain','authorizedKeys':['ssh-dss AAAA','nonsense'],"
        + "'allowedSourceCidrs':['10.0.0.0/33','example.com'],'expiresAt':'tomorrow','permissions':['fly'],"
        + "'pathRules':[{'path':'relative','permissions':['read']},{'path':'/x'}],'disabled':'yes','extra':1}");
    assertThat(errors).anyMatch(e -> e.startsWith("$.users[0].name: 'Bad Name' is not a valid login name"))
        .anyMatch(e -> e.startsWith("$.users[0].home: must be a relative path"))
        .anyMatch(e -> e.startsWith("$.users[0].passwordHash: unsupported password hash"))
        .anyMatch(e -> e.startsWith("$.users[0].authorizedKeys[0]: DSA keys (ssh-dss) are refused"))
        .anyMatch(e -> e.startsWith("$.users[0].authorizedKeys[1]: 'nonsense' is not a supported key type"))
        .anyMatch(e -> e.startsWith("$.users[0].allowedSourceCidrs[0]: '10.0.0.0/33' has prefix length 33"))
        .anyMatch(e -> e.startsWith("$.users[0].allowedSourceCidrs[1]: 'example.com' is not an IPv4 or IPv6"))
        .anyMatch(e -> e.startsWith("$.users[0].expiresAt: 'tomorrow' is not an RFC 3339 time"))
        .anyMatch(e -> e.startsWith("$.users[0].permissions[0]: unknown permission 'fly'"))
        .anyMatch(e -> e.startsWith("$.users[0].pathRules[0].path: expected an absolute path"))
        .anyMatch(e -> e.startsWith("$.users[0].pathRules[1].permissions: missing"))
        .anyMatch(e -> e.startsWith("$.users[0].disabled: expected true or false"))
        .anyMatch(e -> e.startsWith("$.users[0].extra: unknown field"));
  }

  @Test
  void aUserWithoutAnyCredentialIsRefused() throws Exception {
    assertThat(userErrors("{'name':'x','home':'x'}")).containsExactly("$.users[0]: has neither a passwordHash nor authorizedKeys, so nobody can log in");
  }

  @Test
  void shortRsaKeysAreRefused() {
    // A 1024-bit RSA key made by ssh-keygen.
    String rsa1024 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDRxuU4vJWDgV4LPky8eLpMOMkw4ar44q537tD5UB5hc6Tg+bElpXvNB43dGMx1T6Gj+/sKe/N1ws/2Rm8Ujy9RiQKL4FHKTeXumAv1eJG8ani14v4Mh1Ioy4YDLhszeHpnU2vQsytelzXN1olckInVpN1tqKSe/z+CA6/IWyYaaQ== root@vm";
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> PublicKeyLine.parse(rsa1024))
        .hasMessageContaining("RSA key of 1024 bits is too short, at least 2048 are required");
    // As "ssh-keygen -lf" prints it for the same key.
    assertThat(PublicKeyLine.parse(ED25519).sha256Fingerprint()).isEqualTo("SHA256:+gul91NyGTpC+wqfZsGc5/v8z9VroQpqV8LyXoURm4A");
  }

  @Test
  void documentEnvelopeErrorsArePrecise() throws Exception {
    List<ValidationError> errs = ContractValidator.validateDocument(json("{'apiVersion':'v0','kind':'Other','server':{'port':-1,'umask':'999','fsyncOnClose':'yes','hostKeys':['/abs','../up'],"
        + "'maxSftpPacketBytes':1024,'maxPendingRequestBytes':4096,'maxSessionsPerAddress':0,'proxyProtocol':{'mode':'Enforced'}},'users':{}}"), GatewayConfig.KIND);
    assertThat(errs).extracting(ValidationError::path).contains("$.apiVersion", "$.kind", "$.server.port", "$.server.umask", "$.server.fsyncOnClose", "$.server.hostKeys[0]", "$.server.hostKeys[1]", "$.users",
        "$.server.maxSftpPacketBytes", "$.server.maxPendingRequestBytes", "$.server.maxSessionsPerAddress", "$.server.proxyProtocol.trustedCidrs");
    assertThat(ContractValidator.validateDocument(json("{'apiVersion':'" + GatewayConfig.API_VERSION + "','kind':'GatewayConfig','server':{'hostKeys':['k'],'proxyProtocol':{'mode':'Always','trustedCidrs':['10.0.0.0/8','nlb.example.com']}},'users':[]}"), GatewayConfig.KIND))
        .extracting(ValidationError::path).containsExactlyInAnyOrder("$.server.proxyProtocol.mode", "$.server.proxyProtocol.trustedCidrs[1]");
    // Trusting every address would let any client claim any address.
    assertThat(ContractValidator.validateDocument(json("{'apiVersion':'" + GatewayConfig.API_VERSION + "','kind':'GatewayConfig','server':{'hostKeys':['k'],'proxyProtocol':{'mode':'Optional','trustedCidrs':['10.0.0.0/8','0.0.0.0/0','::/0']}},'users':[]}"), GatewayConfig.KIND))
        .extracting(ValidationError::toString).containsExactlyInAnyOrder(
            "$.server.proxyProtocol.trustedCidrs[1]: '0.0.0.0/0' trusts every address: any client could claim any address; list the load balancers' own addresses",
            "$.server.proxyProtocol.trustedCidrs[2]: '::/0' trusts every address: any client could claim any address; list the load balancers' own addresses");
  }

  @Test
  void writingIsDeterministicAndReadsBack() throws Exception {
    GatewayConfig c = GatewayConfig.of(new ServerSettings(null, 2222, List.of("k"), null, null, null, null, null, AlgorithmProfile.MODERN, SetstatMode.IGNORE_ERRORS, "0027", true, 4,
        new dev.sftp.contract.DefenderSettings(true, 5, 60, 120, List.of("10.0.0.0/8")), 20, "10:30:100", 5, 4, 100, 50, 65536, 1048576, 10, new dev.sftp.contract.ProxyProtocolSettings("Enforced", List.of("10.0.0.0/8")), UploadMode.ATOMIC, new UserMetricsSettings(20, List.of("alice"))),
        List.of(new UserEntry("a", null, List.of(ED25519), "a", false, null, null, true, List.of(Permission.READ), List.of(new PathRule("/x", List.of())), null)));
    String once = ContractJson.write(c);
    assertThat(ContractJson.write(ContractJson.mapper().readValue(once, GatewayConfig.class))).isEqualTo(once);
    assertThat(once).contains("\"setstatMode\" : \"IgnoreErrors\"").contains("\"permissions\" : [ \"read\" ]")
        .contains("\"fsyncOnClose\" : true").contains("\"uploadMode\" : \"Atomic\"").contains("\"top\" : 20");
    assertThat(ContractValidator.validateDocument(json(once), GatewayConfig.KIND)).isEmpty();
    assertThat(ContractValidator.validateUser(json(once).get("users").get(0), "$.users[0]")).isEmpty();
  }
}
