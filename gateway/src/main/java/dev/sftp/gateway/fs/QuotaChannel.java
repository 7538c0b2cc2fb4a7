package dev.sftp.gateway.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A file opened for writing by a user with a quota: every write that makes the file longer takes
 * the growth from its home's {@link Quotas.Usage} first, and fails with the quota's refusal when
 * it does not fit (nothing is written then); a truncation gives the bytes back.
 *
 * <p>The growth is measured on the file itself (its size before and after, with the home's changes
 * held still), not on what this handle saw: two handles of one file (WinSCP's and rclone's
 * parallel uploads of one file write its parts through several) count its bytes once, and a
 * second handle's truncation cannot make the first handle's rewrite free. A truncation gives bytes
 * back only while the file is still the one under the name it was opened as ({@code linked}): the
 * bytes of a removed file were given back when it was removed, and shrinking it afterwards
 * through a handle kept open must not give them back twice.
 */
final class QuotaChannel extends FileChannel {
  private final FileChannel file;
  private final Quotas.Usage usage;
  private final Supplier<Long> quota;
  private final Supplier<IOException> exceeded;
  private final BooleanSupplier linked;

  /** A write to the underlying channel. */
  private interface Write {
    long run() throws IOException;
  }

  /**
   * @param quota the user's byte quota now (read at every write: a change applies at once)
   * @param exceeded the refusal to throw when a write does not fit
   * @param linked whether the file is still the one under the name it was opened as
   */
  QuotaChannel(FileChannel file, Quotas.Usage usage, Supplier<Long> quota, Supplier<IOException> exceeded, BooleanSupplier linked) {
    this.file = file;
    this.usage = usage;
    this.quota = quota;
    this.exceeded = exceeded;
    this.linked = linked;
  }

  /** A write that may end at {@code end}: takes the growth first, then counts what it really grew. */
  private long counted(long end, Write write) throws IOException {
    usage.lockChanges();
    try {
      long before = file.size();
      long taken = Math.max(0, end - before);
      if (taken > 0 && !usage.takeBytes(taken, quota.get())) {
        throw exceeded.get();
      }
      try {
        return write.run();
      } finally {
        long grew = Math.max(0, file.size() - before);
        if (grew < taken) {
          usage.releaseBytes(taken - grew);
        } else {
          usage.addBytes(grew - taken);
        }
      }
    } finally {
      usage.unlockChanges();
    }
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    return (int) counted(position + src.remaining(), () -> file.write(src, position));
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    return (int) counted(file.position() + src.remaining(), () -> file.write(src));
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    long n = 0;
    for (int i = offset; i < offset + length; i++) {
      n += srcs[i].remaining();
    }
    return counted(file.position() + n, () -> file.write(srcs, offset, length));
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
    return counted(position + count, () -> file.transferFrom(src, position, count));
  }

  @Override
  public FileChannel truncate(long newSize) throws IOException {
    usage.lockChanges();
    try {
      long before = file.size();
      file.truncate(newSize);
      long after = file.size();
      if (after < before && linked.getAsBoolean()) {
        usage.releaseBytes(before - after);
      }
    } finally {
      usage.unlockChanges();
    }
    return this;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return file.read(dst);
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return file.read(dsts, offset, length);
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return file.read(dst, position);
  }

  @Override
  public long position() throws IOException {
    return file.position();
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    file.position(newPosition);
    return this;
  }

  @Override
  public long size() throws IOException {
    return file.size();
  }

  @Override
  public void force(boolean metaData) throws IOException {
    file.force(metaData);
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
    return file.transferTo(position, count, target);
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
    throw new UnsupportedOperationException("not mapped: writes through a map would pass the quota");
  }

  @Override
  public FileLock lock(long position, long size, boolean shared) throws IOException {
    return file.lock(position, size, shared);
  }

  @Override
  public FileLock tryLock(long position, long size, boolean shared) throws IOException {
    return file.tryLock(position, size, shared);
  }

  @Override
  protected void implCloseChannel() throws IOException {
    file.close();
  }
}
