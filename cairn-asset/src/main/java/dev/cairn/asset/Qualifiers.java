package dev.cairn.asset;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The qualifiers of a request, checked: names unique and non-empty, and (for fetches from an
 * origin) only those Cairn implements. They are part of the index key as given, so a client that
 * asks with other qualifiers gets other content.
 *
 * <p>Supported: {@code checksum.sri}, {@code resource_type}, {@code bazel.canonical_id} (only a
 * cache key), {@code http_header:NAME} (sent to every URI), {@code http_header_url:N:NAME} (sent
 * to the N-th URI only, counting from 0), {@code vcs.commit} and {@code vcs.branch} (git).
 */
public final class Qualifiers {
  public static final String SRI = "checksum.sri";
  public static final String RESOURCE_TYPE = "resource_type";
  public static final String CANONICAL_ID = "bazel.canonical_id";
  public static final String HEADER = "http_header:";
  public static final String HEADER_URL = "http_header_url:";
  public static final String VCS_COMMIT = "vcs.commit";
  public static final String VCS_BRANCH = "vcs.branch";

  private static final String SUPPORTED = String.join(", ", SRI, RESOURCE_TYPE, CANONICAL_ID,
      HEADER + "NAME", HEADER_URL + "N:NAME", VCS_COMMIT, VCS_BRANCH);

  private final SortedMap<String, String> values;

  private Qualifiers(SortedMap<String, String> values) {
    this.values = Collections.unmodifiableSortedMap(values);
  }

  /**
   * Checks names are non-empty and unique (the spec's MUST).
   *
   * @throws IllegalArgumentException naming the offending qualifier
   */
  public static Qualifiers of(List<Map.Entry<String, String>> qualifiers) {
    SortedMap<String, String> map = new TreeMap<>();
    for (var q : qualifiers) {
      if (q.getKey().isEmpty()) {
        throw new IllegalArgumentException("qualifier with an empty name (value '" + q.getValue() + "')");
      }
      if (map.put(q.getKey(), q.getValue()) != null) {
        throw new IllegalArgumentException("qualifier \"" + q.getKey() + "\" given more than once");
      }
    }
    return new Qualifiers(map);
  }

  public static Qualifiers of(Map<String, String> qualifiers) {
    return of(new ArrayList<>(qualifiers.entrySet()));
  }

  public static Qualifiers none() {
    return new Qualifiers(new TreeMap<>());
  }

  public SortedMap<String, String> asMap() {
    return values;
  }

  /**
   * The qualifiers as the asset index keys and stores them: header values (often credentials)
   * replaced by their SHA-256, so that index files never hold a token while a request with other
   * headers is still another name.
   */
  public SortedMap<String, String> forIndex() {
    SortedMap<String, String> out = new TreeMap<>();
    for (var q : values.entrySet()) {
      String v = q.getValue();
      if (q.getKey().startsWith(HEADER) || q.getKey().startsWith(HEADER_URL)) {
        v = "sha256:" + dev.cairn.core.digest.DigestFunction.SHA256
            .digestOf(v.getBytes(java.nio.charset.StandardCharsets.UTF_8)).hash();
      }
      out.put(q.getKey(), v);
    }
    return Collections.unmodifiableSortedMap(out);
  }

  /**
   * Checks every qualifier is one Cairn implements for fetching from an origin, and that their
   * values parse.
   *
   * @throws UnsupportedQualifierException naming every unsupported one
   * @throws IllegalArgumentException for a value that does not parse
   */
  public void checkSupported(int uriCount) {
    List<String> unsupported = new ArrayList<>();
    for (var q : values.entrySet()) {
      String name = q.getKey();
      if (name.equals(SRI)) {
        Sri.parse(q.getValue());
      } else if (name.startsWith(HEADER_URL)) {
        HeaderUrl h = HeaderUrl.parse(name);
        if (h.index() >= uriCount) {
          throw new IllegalArgumentException("qualifier \"" + name + "\": URI index " + h.index()
              + " but the request has " + uriCount + " URI" + (uriCount == 1 ? "" : "s"));
        }
      } else if (name.startsWith(HEADER)) {
        headerName(name, name.substring(HEADER.length()));
      } else if (!name.equals(RESOURCE_TYPE) && !name.equals(CANONICAL_ID)
          && !name.equals(VCS_COMMIT) && !name.equals(VCS_BRANCH)) {
        unsupported.add(name);
      }
    }
    if (!unsupported.isEmpty()) {
      throw new UnsupportedQualifierException(unsupported, SUPPORTED);
    }
  }

  public Optional<Sri> sri() {
    return Optional.ofNullable(values.get(SRI)).map(Sri::parse);
  }

  public Optional<String> get(String name) {
    return Optional.ofNullable(values.get(name));
  }

  /** The headers to send to the URI at {@code uriIndex}: the general ones, then its own. */
  public Map<String, String> headersFor(int uriIndex) {
    Map<String, String> headers = new LinkedHashMap<>();
    for (var q : values.entrySet()) {
      String name = q.getKey();
      if (name.startsWith(HEADER_URL)) {
        HeaderUrl h = HeaderUrl.parse(name);
        if (h.index() == uriIndex) {
          headers.put(h.header(), q.getValue());
        }
      } else if (name.startsWith(HEADER)) {
        headers.putIfAbsent(headerName(name, name.substring(HEADER.length())), q.getValue());
      }
    }
    return headers;
  }

  private record HeaderUrl(int index, String header) {
    static HeaderUrl parse(String name) {
      String rest = name.substring(HEADER_URL.length());
      int colon = rest.indexOf(':');
      if (colon <= 0) {
        throw new IllegalArgumentException("qualifier \"" + name + "\": expected http_header_url:N:NAME");
      }
      int index;
      try {
        index = Integer.parseInt(rest.substring(0, colon));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("qualifier \"" + name + "\": '" + rest.substring(0, colon)
            + "' is not a URI index");
      }
      if (index < 0) {
        throw new IllegalArgumentException("qualifier \"" + name + "\": negative URI index");
      }
      return new HeaderUrl(index, headerName(name, rest.substring(colon + 1)));
    }
  }

  /** HTTP token characters only, so a qualifier cannot smuggle a second header line. */
  private static String headerName(String qualifier, String header) {
    if (header.isEmpty() || !header.chars().allMatch(c -> c > 32 && c < 127 && "()<>@,;:\\\"/[]?={}".indexOf(c) < 0)) {
      throw new IllegalArgumentException("qualifier \"" + qualifier + "\": '" + header
          + "' is not an HTTP header name");
    }
    return header;
  }

  @Override
  public String toString() {
    return values.toString();
  }
}
