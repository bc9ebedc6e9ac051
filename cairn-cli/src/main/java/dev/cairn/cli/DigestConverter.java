package dev.cairn.cli;

import dev.cairn.core.digest.Digest;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Reads a {@code <hex>/<size>} argument into a {@link Digest}, so that a malformed digest is a
 * usage error (exit 2) reported with the argument, before any store is opened.
 */
public final class DigestConverter implements ITypeConverter<Digest> {
  @Override
  public Digest convert(String value) {
    try {
      return Digest.parse(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }

}
