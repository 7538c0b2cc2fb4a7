package dev.sftp.contract;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Replaces a user's permissions on a path of their home and everything below it. The longest
 * matching rule wins; paths are as the user sees them ({@code /outgoing}).
 *
 * @param path absolute path inside the home, without {@code ..}
 * @param permissions the complete set that applies there (an empty list denies everything)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record PathRule(String path, List<Permission> permissions) {}
