package dev.cairn.fuse.cas;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.fuse.cas.Listing.Child;
import dev.cairn.fuse.cas.Listing.Kind;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeTableTest {

  private static Digest digest(String content) {
    return DigestFunction.SHA256.digestOf(content.getBytes(StandardCharsets.UTF_8));
  }

  private final NodeTable table = new NodeTable(digest("root"));

  @Test
  void files_withTheSameContentAndBit_shareOneIdDerivedFromTheDigest() {
    Digest d = digest("same");
    long a = table.ref(1, new Child("a", Kind.FILE, d, false, null)).id;
    long b = table.ref(5, new Child("b", Kind.FILE, d, false, null)).id;
    long exec = table.ref(1, new Child("c", Kind.FILE, d, true, null)).id;
    assertThat(b).isEqualTo(a);
    assertThat(exec).isEqualTo(a | 1L).isNotEqualTo(a);
    assertThat(a).isNegative(); // top bit set: never clashes with counter ids
    long prefix = 0;
    for (int i = 0; i < 8; i++) {
      prefix = (prefix << 8) | (d.hashBytes()[i] & 0xff);
    }
    assertThat(a & ~1L & Long.MAX_VALUE).isEqualTo(prefix & ~1L & Long.MAX_VALUE);
  }

  @Test
  void directories_getOneIdPerPlace_evenWithEqualDigests() {
    Digest empty = digest("empty dir");
    long x = table.ref(1, new Child("x", Kind.DIR, empty, false, null)).id;
    long y = table.ref(1, new Child("y", Kind.DIR, empty, false, null)).id;
    assertThat(x).isNotEqualTo(y).isPositive();
    assertThat(table.ref(1, new Child("x", Kind.DIR, empty, false, null)).id).isEqualTo(x);
  }

  @Test
  void forget_dropsNodesAtZeroLookups_andHandsBackTheirBackingIds() {
    Child f = new Child("f", Kind.FILE, digest("f"), false, null);
    NodeTable.Node n = table.ref(1, f);
    table.ref(1, f);
    n.backingId = 7;
    List<Integer> closed = new ArrayList<>();
    table.forget(n.id, 1, closed::add);
    assertThat(table.get(n.id)).isNotNull();
    assertThat(closed).isEmpty();
    table.forget(n.id, 1, closed::add);
    assertThat(table.get(n.id)).isNull();
    assertThat(closed).containsExactly(7);
    assertThat(table.size()).isEqualTo(1); // the root stays
    table.forget(1, 1000, closed::add);
    assertThat(table.get(1)).isNotNull();
  }
}
