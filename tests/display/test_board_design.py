"""The board as designed, in pixels: docs/images/board-1920x1080.png and board-1080x1920.png are these rects.

The other layout tests prove any size is tidy (inside the screen, nothing overlapping); these pin the
design itself, so a changed margin, share or size shows up here. A deliberate redesign updates the
figures below together with the pictures in docs/images.
"""

from __future__ import annotations

from display.layout import board_layout, counter_columns, counter_tiles, now_parts, recent_cells, waiting_table


def rects(*items: object) -> list[tuple[int, int, int, int]]:
    return [tuple(r) for r in items]  # type: ignore[misc, arg-type]


def test_hall_board_1920x1080_with_banner_and_notice() -> None:
    lay = board_layout((1920, 1080), banner=True, notice=True)
    # Header 113 px (10.5 %): site name on the left 68 %, clock right; 16 px margins.
    assert rects(lay.site, lay.clock, lay.banner, lay.notice) == [
        (16, 0, 1290, 113), (1322, 0, 582, 113), (0, 113, 1920, 92), (0, 1007, 1920, 73)]
    # Left column 41 % of the body: now calling (60 %) over previous calls; right: counters over waiting.
    assert rects(lay.body, lay.now, lay.recent, lay.counters, lay.waiting) == [
        (16, 221, 1888, 770), (16, 221, 774, 452), (16, 689, 774, 302), (806, 221, 1098, 354), (806, 591, 1098, 400)]
    now = now_parts(lay.now, lay.unit)
    assert rects(now.title, now.number, now.counter, now.counter_sub) == [
        (16, 221, 774, 58), (40, 291, 726, 212), (40, 511, 726, 85), (40, 604, 726, 57)]
    tiles = counter_tiles(lay.counters, 6, lay.unit)  # two rows of three
    first = tiles[0]
    assert rects(first.cell, first.name, first.info, first.number, first.state) == [
        (824, 297, 345, 123), (838, 305, 317, 25), (838, 330, 317, 16), (854, 356, 285, 52), (838, 355, 317, 49)]
    assert rects(tiles[5].cell) == [(1542, 434, 344, 123)]
    table = waiting_table(lay.waiting, 6, lay.unit)
    assert rects(table.strip, *table.columns) == [
        (808, 593, 1094, 66), (826, 596, 652, 58), (1498, 596, 163, 58), (1681, 596, 203, 58)]
    row = table.rows[0]
    assert rects(row.line, row.badge, row.names, row.count, row.est, table.rows[5].line) == [
        (806, 665, 1098, 53), (829, 673, 37, 37), (886, 670, 592, 43), (1498, 677, 163, 28), (1681, 677, 203, 28),
        (806, 930, 1098, 53)]
    cells = recent_cells(lay.recent, 6, 2, lay.unit)
    assert rects(*cells[0], cells[5][0]) == [(34, 765, 362, 60), (46, 770, 156, 50), (214, 776, 170, 37),
                                            (410, 913, 362, 60)]


def test_entrance_board_1080x1920_portrait_with_notice() -> None:
    lay = board_layout((1080, 1920), banner=False, notice=True)
    assert lay.portrait and lay.banner is None
    assert rects(lay.site, lay.clock, lay.notice) == [(16, 0, 718, 138), (750, 0, 314, 138), (0, 1839, 1080, 81)]
    # One column: now calling 27 %, counters 31 %, previous calls 13 %, waiting 29 %.
    assert rects(lay.body, lay.now, lay.counters, lay.recent, lay.waiting) == [
        (16, 154, 1048, 1669), (16, 154, 1048, 438), (16, 608, 1048, 503), (16, 1127, 1048, 211),
        (16, 1354, 1048, 469)]
    now = now_parts(lay.now, lay.unit)
    assert rects(now.number, now.counter, now.counter_sub) == [(40, 224, 1000, 204), (40, 436, 1000, 82),
                                                               (40, 526, 1000, 54)]
    tiles = counter_tiles(lay.counters, 6, lay.unit)
    assert rects(tiles[0].cell, tiles[0].number, tiles[0].state, tiles[5].cell) == [
        (34, 684, 328, 198), (63, 777, 270, 90), (48, 775, 300, 84), (718, 896, 328, 197)]
    table = waiting_table(lay.waiting, 6, lay.unit)
    assert rects(table.rows[0].line, table.rows[0].badge, table.rows[5].line) == [
        (16, 1428, 1048, 64), (39, 1436, 48, 48), (16, 1748, 1048, 64)]
    cells = recent_cells(lay.recent, 6, 3, lay.unit)
    assert rects(*cells[0], cells[5][0]) == [(34, 1203, 328, 52), (46, 1208, 140, 42), (198, 1213, 152, 31),
                                            (718, 1269, 328, 51)]


def test_lobby_board_1280x720_is_the_same_design_at_two_thirds() -> None:
    """Margins, paddings and row heights are shares of a 1080-line board: at 720 lines every one is 2/3."""
    lay = board_layout((1280, 720), banner=True, notice=True)
    assert lay.unit == 720 / 1080
    assert rects(lay.site, lay.banner, lay.body, lay.now, lay.counters, lay.waiting, lay.notice) == [
        (11, 0, 859, 76), (0, 76, 1280, 61), (11, 148, 1258, 512), (11, 148, 516, 301), (538, 148, 731, 235),
        (538, 394, 731, 266), (0, 671, 1280, 49)]
    now = now_parts(lay.now, lay.unit)
    assert rects(now.title, now.number, now.counter, now.counter_sub) == [
        (11, 148, 516, 39), (27, 195, 484, 142), (27, 342, 484, 57), (27, 404, 484, 37)]
    tile = counter_tiles(lay.counters, 6, lay.unit)[0]
    assert rects(tile.cell, tile.name, tile.info, tile.number, tile.state) == [
        (550, 199, 230, 82), (559, 204, 211, 16), (559, 220, 211, 11), (570, 237, 189, 35), (559, 237, 211, 33)]
    table = waiting_table(lay.waiting, 6, lay.unit)
    row = table.rows[0]
    assert rects(table.strip, *table.columns, row.line, row.badge, row.names, table.rows[5].line) == [
        (539, 395, 729, 44), (551, 397, 435, 38), (999, 397, 109, 38), (1121, 397, 135, 38),
        (538, 443, 731, 35), (553, 448, 24, 24), (590, 446, 396, 28), (538, 618, 731, 35)]
    cells = recent_cells(lay.recent, 6, 2, lay.unit)
    assert rects(*cells[0], cells[5][0]) == [(23, 511, 242, 40), (31, 514, 105, 33), (144, 518, 113, 24),
                                            (274, 609, 241, 39)]


def test_two_counters_get_tall_tiles_with_capped_name_and_state_boxes() -> None:
    """With few counters the tiles are tall: the name strip stops at 84 px and the paused/closed box at 110 px."""
    lay = board_layout((1920, 1080), banner=False, notice=False)
    tile = counter_tiles(lay.counters, 2, lay.unit)[0]
    assert rects(tile.cell, tile.name, tile.info, tile.number, tile.state) == [
        (824, 205, 524, 338), (838, 213, 496, 50), (838, 263, 496, 34), (863, 332, 446, 190), (838, 361, 496, 110)]


def test_a_square_screen_gets_the_landscape_board() -> None:
    lay = board_layout((1080, 1080), banner=True, notice=True)
    assert not lay.portrait
    assert rects(lay.site, lay.banner, lay.notice, lay.now) == [
        (16, 0, 718, 113), (0, 113, 1080, 92), (0, 1007, 1080, 73), (16, 221, 430, 452)]


def test_the_portrait_banner_is_5_percent_of_the_height() -> None:
    assert rects(board_layout((1080, 1920), banner=True, notice=False).banner) == [(0, 138, 1080, 96)]


def test_empty_panels() -> None:
    """No calls yet: one empty cell in previous calls. No services or no counters: nothing to lay out."""
    lay = board_layout((1920, 1080), banner=False, notice=False)
    assert len(recent_cells(lay.recent, 0, 2, lay.unit)) == 1
    assert waiting_table(lay.waiting, 0, lay.unit).rows == []
    assert len(waiting_table(lay.waiting, 1, lay.unit).rows) == 1
    assert counter_tiles(lay.counters, 0, lay.unit) == [] and counter_columns(0) == 1


def test_a_small_hall_at_720_lines_and_on_a_4k_screen() -> None:
    """Two counters and two services: the tile's name strip, state box and the waiting rows stop at their
    caps (84, 110 and 110 px on a 1080-line board), scaled with the screen like everything else."""
    for size, tile_rects, row_lines in [
        ((1280, 720), [(550, 138, 349, 224), (559, 143, 330, 34), (575, 222, 297, 125), (559, 241, 330, 73)],
         [(538, 434, 731, 73), (538, 507, 731, 73)]),
        ((3840, 2160), [(1648, 411, 1048, 675), (1676, 427, 992, 101), (1726, 665, 892, 380),
                        (1676, 722, 992, 220)],
         [(1612, 1302, 2196, 220), (1612, 1522, 2196, 220)]),
    ]:
        lay = board_layout(size, banner=False, notice=False)
        tile = counter_tiles(lay.counters, 2, lay.unit)[0]
        assert rects(tile.cell, tile.name, tile.number, tile.state) == tile_rects, size
        assert rects(*(row.line for row in waiting_table(lay.waiting, 2, lay.unit).rows)) == row_lines, size
