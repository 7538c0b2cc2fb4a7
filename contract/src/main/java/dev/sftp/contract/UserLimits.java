package dev.sftp.contract;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * What one user may use. Every field is optional: absent means no limit.
 *
 * @param quotaBytes bytes the files in the user's home may take (their sizes); a write past it
 *     fails with "quota exceeded" and leaves what fitted
 * @param quotaFiles files (anything that is not a directory) the home may hold; creating one more
 *     fails with "quota exceeded"
 * @param uploadBytesPerSecond what the user's uploads may carry per second, all their connections
 *     together
 * @param downloadBytesPerSecond the same for downloads
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record UserLimits(Long quotaBytes, Long quotaFiles, Long uploadBytesPerSecond, Long downloadBytesPerSecond) {
  /** The lowest accepted bandwidth: a request of 256 KiB then waits at most 32 s. */
  public static final long MIN_BYTES_PER_SECOND = 8 * 1024;

  public boolean hasQuota() {
    return quotaBytes != null || quotaFiles != null;
  }
}
