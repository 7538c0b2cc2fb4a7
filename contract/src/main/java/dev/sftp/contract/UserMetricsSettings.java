package dev.sftp.contract;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Metrics per user, off unless asked for, with a bounded number of series.
 *
 * @param top the users that moved the most bytes since the gateway started get series, at most
 *     this many (default 0)
 * @param users these users get series whenever they have been active
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record UserMetricsSettings(Integer top, List<String> users) {
  /** The most users {@code top} may name: 4 series each. */
  public static final int MAX_TOP = 1000;

  public int topOrDefault() {
    return top == null ? 0 : top;
  }

  public List<String> usersOrDefault() {
    return users == null ? List.of() : users;
  }
}
