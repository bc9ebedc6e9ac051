package dev.cairn.fuse.overlay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.vfs.TreePath;
import org.junit.jupiter.api.Test;

class PathTableTest {

  private final PathTable table = new PathTable();

  @Test
  void ref_givesOneIdPerPath_andForgetReleasesIt() {
    long a = table.ref(TreePath.parse("a")).id;
    assertThat(table.ref(TreePath.parse("a")).id).isEqualTo(a);
    assertThat(table.ref(TreePath.parse("b")).id).isNotEqualTo(a);
    table.forget(a, 1);
    assertThat(table.get(a)).isNotNull();
    table.forget(a, 1);
    assertThat(table.get(a)).isNull();
    assertThat(table.ref(TreePath.parse("a")).id).isNotEqualTo(a); // ids are never reused
  }

  @Test
  void renamed_movesEveryNodeBelow_andDetachesTheReplacedTarget() {
    long dir = table.ref(TreePath.parse("d")).id;
    long file = table.ref(TreePath.parse("d/sub/f")).id;
    long other = table.ref(TreePath.parse("dx/f")).id; // a sibling with a common prefix
    long target = table.ref(TreePath.parse("e")).id;

    table.renamed(TreePath.parse("d"), TreePath.parse("e"));

    assertThat(table.path(dir)).isEqualTo(TreePath.parse("e"));
    assertThat(table.path(file)).isEqualTo(TreePath.parse("e/sub/f"));
    assertThat(table.path(other)).isEqualTo(TreePath.parse("dx/f"));
    assertThat(table.path(target)).isNull(); // replaced: detached until FORGET
    assertThat(table.peek(TreePath.parse("e"))).isEqualTo(dir);
    assertThat(table.peek(TreePath.parse("d"))).isZero();
  }

  @Test
  void exchanged_swapsBothSubtrees() {
    long a = table.ref(TreePath.parse("a/x")).id;
    long b = table.ref(TreePath.parse("b/y")).id;
    table.exchanged(TreePath.parse("a"), TreePath.parse("b"));
    assertThat(table.path(a)).isEqualTo(TreePath.parse("b/x"));
    assertThat(table.path(b)).isEqualTo(TreePath.parse("a/y"));
  }

  @Test
  void removed_detachesTheSubtree_butForgetStillWorks() {
    long f = table.ref(TreePath.parse("d/f")).id;
    table.removed(TreePath.parse("d"));
    assertThat(table.path(f)).isNull();
    assertThat(table.peek(TreePath.parse("d/f"))).isZero();
    table.forget(f, 1);
    assertThat(table.get(f)).isNull();
    assertThat(table.path(1)).isEqualTo(TreePath.ROOT);
  }
}
