# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Tree walks of extraction over libxml2's nodes, through lxml's C API (issue 11).

The Python versions spent most of their time creating and reading lxml's element proxies:

* `measure_tree`: the measuring pass of `dvcrawl.extract.region` (`region._measure`);
* `raw_text`: the text of an element that `dvcrawl.extract.page.element_text` cleans;
* `select`: the node tests `Page.css` answers for headings and publication times.

Each gives exactly what its Python version gives: text lengths are counted on the UTF-8 text
nodes with Python's own definition of whitespace (``Py_UNICODE_ISSPACE``, as ``str.split``
uses), scores are summed in the same order, and every decision about a class name or a style
calls the Python function that makes it. `tests/test_compiled.py` checks both ways on every
stored page. The module records the lxml version it was compiled against (it reads lxml's
structs), and `dvcrawl.extract.compiled` loads it only under that same lxml.
"""

from cpython cimport array
from cpython.unicode cimport Py_UNICODE_ISSPACE
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, strcmp, strlen, strncmp, strstr

import array

from lxml.includes cimport tree
from lxml.includes.etreepublic cimport (
    LXML_VERSION_STRING,
    _Document,
    _Element,
    _isElement,
    elementFactory,
    import_lxml__etree,
)

import_lxml__etree()

#: The lxml version this module was compiled against (its struct layout).
LXML_VERSION = (<bytes>LXML_VERSION_STRING).decode("ascii")

cdef enum:
    K_INLINE = 1
    K_WHOLE = 2
    K_PARAGRAPH = 4
    K_CHROME = 8
    K_LINK = 16
    K_ELEMENT = 32
    K_HIDDEN_TAG = 64
    K_BLOCK_LOWER = 128   # its tag, lower-cased, is a block tag (page.BLOCK_TAGS)
    K_HIDDEN_LOWER = 256  # its tag, lower-cased, is never rendered (page._HIDDEN_TAGS)
    K_HEADING = 512       # h1-h3 (page._HEADING_TAGS, exact)
    K_TIME = 1024         # <time>
    K_ANCHOR = 2048       # a tag of boilerplate._ANCHOR_TAGS (exact)
    TAG_SLOTS = 256  # a power of two

cdef int XML_XINCLUDE_START = 19
cdef int XML_XINCLUDE_END = 20

cdef dict _TAG_KINDS = {}  # exact tag name (bytes) -> kinds
cdef dict _LOWER_KINDS = {}  # lower-cased tag name (str) -> kinds
cdef list _HEADING_NAMES = []  # class-name substrings that mark a heading (bytes, kept alive)
cdef const char* _heading_names[64]  # the same, for C
cdef int _heading_count = 0
cdef array.array _LONGS = array.array("l", [])


def _add(dict table, names, int kind, bint encode):
    for name in names:
        key = name.encode("utf-8") if encode else name
        table[key] = table.get(key, 0) | kind


def configure_measure(inline, whole, paragraph, chrome, hidden):
    """Record the tag sets of `region` (exact tag names)."""
    for key in _TAG_KINDS:
        _TAG_KINDS[key] &= ~(K_INLINE | K_WHOLE | K_PARAGRAPH | K_CHROME | K_HIDDEN_TAG | K_LINK)
    _add(_TAG_KINDS, inline, K_INLINE, True)
    _add(_TAG_KINDS, whole, K_WHOLE, True)
    _add(_TAG_KINDS, paragraph, K_PARAGRAPH, True)
    _add(_TAG_KINDS, chrome, K_CHROME, True)
    _add(_TAG_KINDS, hidden, K_HIDDEN_TAG, True)
    _add(_TAG_KINDS, ("a",), K_LINK, True)


def configure_text(block, hidden, heading_tags, heading_names):
    """Record the tag sets of `page`: block and hidden tags (compared lower-cased), heading
    tags (exact) and the class-name substrings that mark a heading (ASCII)."""
    global _heading_count
    if len(heading_names) > 64:
        raise ValueError("at most 64 heading class names")
    _LOWER_KINDS.clear()
    _add(_LOWER_KINDS, block, K_BLOCK_LOWER, False)
    _add(_LOWER_KINDS, hidden, K_HIDDEN_LOWER, False)
    for key in _TAG_KINDS:
        _TAG_KINDS[key] &= ~(K_HEADING | K_TIME)
    _add(_TAG_KINDS, heading_tags, K_HEADING, True)
    _add(_TAG_KINDS, ("time",), K_TIME, True)
    _HEADING_NAMES[:] = [name.encode("ascii") for name in heading_names]
    for index, name in enumerate(_HEADING_NAMES):
        _heading_names[index] = <const char*>(<bytes>name)
    _heading_count = len(_HEADING_NAMES)


cdef struct TagCache:
    const void* names[TAG_SLOTS]
    int kinds[TAG_SLOTS]


cdef int _kind_of(tree.xmlNode* node, TagCache* cache) except -1:
    # libxml2's HTML parser interns tag names in the document's dictionary, so within one
    # page a name's pointer is its key; the table is emptied for every page.
    cdef const void* name = <const void*>node.name
    if node.ns != NULL:
        return K_ELEMENT  # a namespaced tag ("{uri}name" in lxml) is in no tag set
    cdef size_t slot = (<size_t>name >> 3) & (TAG_SLOTS - 1)
    cdef size_t tries = 0
    while cache.names[slot] != NULL and tries < TAG_SLOTS:
        if cache.names[slot] == name:
            return cache.kinds[slot]
        slot = (slot + 1) & (TAG_SLOTS - 1)
        tries += 1
    cdef int kind = K_ELEMENT
    if node.name != NULL:
        name_bytes = <bytes>node.name
        kind |= _TAG_KINDS.get(name_bytes, 0)
        kind |= _LOWER_KINDS.get(name_bytes.decode("utf-8", "replace").lower(), 0)
    if tries < TAG_SLOTS:
        cache.names[slot] = name
        cache.kinds[slot] = kind
    return kind


cdef inline bint _is_text(tree.xmlNode* node) noexcept:
    return node.type == tree.XML_TEXT_NODE or node.type == tree.XML_CDATA_SECTION_NODE


cdef inline tree.xmlNode* _text_or_skip(tree.xmlNode* node) noexcept:
    # lxml's _textNodeOrSkip: text and CDATA nodes count, XInclude markers are passed over.
    while node != NULL:
        if _is_text(node):
            return node
        if <int>node.type == XML_XINCLUDE_START or <int>node.type == XML_XINCLUDE_END:
            node = node.next
            continue
        return NULL
    return NULL


cdef struct TextCount:
    long length   # characters once whitespace runs are collapsed and the ends stripped
    long commas   # commas of Latin, CJK and Arabic scripts


cdef inline bint _is_comma(unsigned int code) noexcept:
    return code == 0x2C or code == 0xFF0C or code == 0x3001 or code == 0x060C


cdef inline int _decode(const unsigned char* p, unsigned int* code) noexcept:
    """Read the character at `p` of NUL-terminated UTF-8 text into `code`; return its width.

    A byte that does not start a whole UTF-8 sequence (libxml2 never stores one) is read as
    one character.
    """
    cdef unsigned int c = p[0]
    if c < 0x80:
        code[0] = c
        return 1
    if c < 0xE0 and p[1] != 0:
        code[0] = ((c & 0x1F) << 6) | (p[1] & 0x3F)
        return 2
    if c < 0xF0 and p[1] != 0 and p[2] != 0:
        code[0] = ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F)
        return 3
    if c < 0xF8 and p[1] != 0 and p[2] != 0 and p[3] != 0:
        code[0] = ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F)
        return 4
    code[0] = c
    return 1


cdef struct Collapsed:
    long letters  # characters other than whitespace
    long words    # runs of them
    long commas
    bint in_word


cdef void _collapse(const unsigned char* p, Collapsed* into) noexcept:
    """Count NUL-terminated UTF-8 text into `into`, continuing a run across calls."""
    cdef unsigned int code
    while p[0] != 0:
        p += _decode(p, &code)
        if Py_UNICODE_ISSPACE(code):
            into.in_word = False
        else:
            if not into.in_word:
                into.words += 1
                into.in_word = True
            into.letters += 1
            if _is_comma(code):
                into.commas += 1


cdef inline long _collapsed_length(Collapsed* counted) noexcept:
    """``len(" ".join(text.split()))`` of the counted text."""
    return counted.letters + counted.words - 1 if counted.words else 0


cdef void _count_run(tree.xmlNode* node, TextCount* out) noexcept:
    """Measure the run of text nodes starting at `node` (an element's text or tail)."""
    cdef Collapsed counted = Collapsed(0, 0, 0, False)
    node = _text_or_skip(node)
    while node != NULL:
        if node.content != NULL:
            _collapse(<const unsigned char*>node.content, &counted)
        node = _text_or_skip(node.next)
    out.length = _collapsed_length(&counted)
    out.commas = counted.commas


def measure_tree(
    list nodes,
    is_hidden_element,
    is_chrome_area,
    class_weight,
    int min_paragraph,
    double prose_max_links,
):
    """The measures of `region._measure` for `nodes` (the root's nodes in document order).

    `is_hidden_element` is asked about elements with a never-rendered tag or a ``style``,
    ``hidden`` or ``aria-hidden`` attribute; what it hides is hidden with all it holds.
    Returns (chars, linked, prose, scores, chrome): three arrays of ints by position, the
    damped content scores by element and the outermost chrome areas; or None when the nodes
    are not one subtree in document order (the caller then measures in Python).
    """
    cdef Py_ssize_t count = len(nodes)
    if count == 0:
        return [], [], [], {}, set()
    cdef Py_ssize_t i, j, p, depth
    cdef tree.xmlNode** c_nodes = <tree.xmlNode**>malloc(count * sizeof(tree.xmlNode*))
    cdef long* ints = <long*>calloc(count * 17, sizeof(long))
    cdef int* kinds = <int*>calloc(count, sizeof(int))
    cdef double* score = <double*>calloc(count, sizeof(double))
    cdef unsigned char* flags = <unsigned char*>calloc(count * 4, sizeof(unsigned char))
    if c_nodes == NULL or ints == NULL or kinds == NULL or score == NULL or flags == NULL:
        free(c_nodes); free(ints); free(kinds); free(score); free(flags)
        raise MemoryError()
    cdef long* parent = ints
    cdef long* end = ints + count
    cdef long* total = ints + 2 * count
    cdef long* flat = ints + 3 * count
    cdef long* in_links = ints + 4 * count
    cdef long* flat_linked = ints + 5 * count
    cdef long* below = ints + 6 * count
    cdef long* paragraphs = ints + 7 * count
    cdef long* chars_of = ints + 8 * count
    cdef long* linked_of = ints + 9 * count
    cdef long* inline_of = ints + 10 * count
    cdef long* inline_linked_of = ints + 11 * count
    cdef long* commas_all = ints + 12 * count   # commas of the subtree's text (text_content)
    cdef long* commas_flat = ints + 13 * count  # commas of direct text, tails, inline children
    cdef long* prose_own = ints + 14 * count
    cdef long* prose_of = ints + 15 * count
    cdef long* touched = ints + 16 * count      # order in which an element first scored
    cdef int* kind = kinds
    cdef long* stack
    cdef unsigned char* is_hidden = flags
    cdef unsigned char* in_chrome = flags + count
    cdef unsigned char* needed = flags + 2 * count  # its text is read (see below)
    cdef unsigned char* in_whole = flags + 3 * count  # its commas reach a paragraph's
    cdef TextCount text, tail
    cdef long own, node_total, node_flat, node_links, node_flat_links, page_total, size, links
    cdef long order = 0
    cdef double points
    cdef int k
    cdef TagCache* tag_cache = <TagCache*>calloc(1, sizeof(TagCache))
    cdef tree.xmlNode* c_node
    external = {}  # ancestors of the measured root: element -> [order, score]
    try:
        for i in range(count):
            c_nodes[i] = (<_Element?>nodes[i])._c_node
        # Parents and subtree ends from document order: the open ancestors form a stack.
        stack = ints + 16 * count  # borrowed until `touched` is needed
        depth = 0
        stack[0] = 0
        parent[0] = -1
        for i in range(1, count):
            c_node = c_nodes[i].parent
            while depth >= 0 and c_nodes[stack[depth]] != c_node:
                end[stack[depth]] = i
                depth -= 1
            if depth < 0:
                return None
            parent[i] = stack[depth]
            depth += 1
            stack[depth] = i
        while depth >= 0:
            end[stack[depth]] = count
            depth -= 1
        for i in range(count):
            touched[i] = -1
        if tag_cache == NULL:
            raise MemoryError()
        for i in range(count):
            if c_nodes[i].type == tree.XML_ELEMENT_NODE:
                kind[i] = _kind_of(c_nodes[i], tag_cache)
        # Never rendered, with everything inside (region._hidden).
        for i in range(count):
            if not kind[i] or is_hidden[i]:
                continue
            if (kind[i] & K_HIDDEN_TAG or _may_hide(c_nodes[i])) and is_hidden_element(nodes[i]):
                for j in range(i, end[i]):
                    is_hidden[j] = 1

        # The text of hidden elements is counted only where its commas reach a paragraph's
        # score (a hidden span in a <p> counts, as text_content() reads it): scripts and
        # styles hold much of a page's characters.
        for i in range(count):
            k = kind[i]
            p = parent[i]
            in_whole[i] = (k & K_WHOLE) != 0 or (
                p >= 0 and (in_whole[p] or ((k & K_INLINE) != 0 and (kind[p] & K_PARAGRAPH) != 0))
            )
            needed[i] = not is_hidden[i] or in_whole[i]

        # Children before parents: every subtree is complete when its root is reached.
        for i in range(count - 1, -1, -1):
            c_node = c_nodes[i]
            k = kind[i]
            p = parent[i]
            if c_node.next != NULL and p >= 0 and needed[p]:
                _count_run(c_node.next, &tail)
            else:
                tail.length = 0
                tail.commas = 0
            if p >= 0:
                total[p] += tail.length
                flat[p] += tail.length
                commas_all[p] += tail.commas
                commas_flat[p] += tail.commas
            if not k:
                continue  # a comment or processing instruction: only its tail is text
            if needed[i]:
                _count_run(c_node.children, &text)
            else:
                text.length = 0
                text.commas = 0
            commas_all[i] += text.commas
            commas_flat[i] += text.commas
            if p >= 0:
                commas_all[p] += commas_all[i]
                if k & K_INLINE:
                    commas_flat[p] += commas_all[i]
            if is_hidden[i]:
                continue
            own = text.length
            node_total = total[i] + own
            node_flat = flat[i] + own
            node_links = in_links[i]
            node_flat_links = flat_linked[i]
            if k & K_LINK:
                node_links = node_total
                node_flat_links = node_flat
            chars_of[i] = node_total
            linked_of[i] = node_links
            inline_of[i] = node_flat
            inline_linked_of[i] = node_flat_links
            if k & K_WHOLE:
                paragraphs[i] = node_total
            elif k & K_PARAGRAPH and node_flat >= min_paragraph:
                paragraphs[i] = below[i] + node_flat
            else:
                paragraphs[i] = below[i]
            if p >= 0:
                total[p] += node_total
                in_links[p] += node_links
                below[p] += paragraphs[i]
                if k & K_INLINE:
                    flat[p] += node_total
                    flat_linked[p] += node_links

        page_total = paragraphs[0]
        # Parents before children: chrome areas, and everything inside them.
        chrome = set()
        for i in range(1, count):
            k = kind[i]
            if not k or is_hidden[i] or in_chrome[i]:
                continue
            if not (k & K_CHROME) and not _has_name(c_nodes[i]):
                continue
            element = nodes[i]
            if is_chrome_area(element, paragraphs[i], page_total):
                for j in range(i, end[i]):
                    in_chrome[j] = 1
                chrome.add(element)

        for i in range(count):
            k = kind[i]
            if not (k & K_PARAGRAPH) or is_hidden[i]:
                continue
            if k & K_WHOLE:
                size = chars_of[i]
                links = linked_of[i]
            else:
                size = inline_of[i]
                links = inline_linked_of[i]
            if size < min_paragraph:
                continue
            if links / <double>size < prose_max_links and not in_chrome[i]:
                prose_own[i] = size
            points = 1.0 + <double>(commas_all[i] if k & K_WHOLE else commas_flat[i])
            points += min(size / 100.0, 3.0)
            p = parent[i]
            if p < 0:
                # The measured root itself is a paragraph: its ancestors lie outside the tree.
                ancestor = nodes[i].getparent()
                if ancestor is None:
                    continue
                order = _credit(external, ancestor, points, order)
                grand = ancestor.getparent()
                if grand is not None:
                    order = _credit(external, grand, points / 2, order)
                continue
            if touched[p] < 0:
                touched[p] = order
                order += 1
            score[p] += points
            j = parent[p]
            if j >= 0:
                if touched[j] < 0:
                    touched[j] = order
                    order += 1
                score[j] += points / 2
            elif p == 0:
                ancestor = nodes[0].getparent()
                if ancestor is not None:
                    order = _credit(external, ancestor, points / 2, order)

        # Prose sums, children before parents.
        for i in range(count - 1, -1, -1):
            if not kind[i]:
                continue
            own = prose_own[i]
            if own and kind[i] & K_WHOLE:
                prose_of[i] = own
            else:
                prose_of[i] += own
            p = parent[i]
            if p >= 0:
                prose_of[p] += prose_of[i]

        # Scores in the order the elements first scored, as the pure pass's dict has them.
        ranked = [(touched[i], i, None) for i in range(count) if touched[i] >= 0]
        ranked.extend((entry[0], -1, element) for element, entry in external.items())
        ranked.sort(key=_first)
        scores = {}
        for _, i, element in ranked:
            if element is not None:
                # Outside the measured tree: no measures, so no link density and no chrome.
                scores[element] = external[element][1] * 1.0 * class_weight(element) * 1.0
                continue
            size = chars_of[i]
            density = min(1.0, linked_of[i] / <double>size) if size else 0.0
            scores[nodes[i]] = (
                score[i] * (1.0 - density) * class_weight(nodes[i]) * (0.1 if in_chrome[i] else 1.0)
            )
        return _longs(chars_of, count), _longs(linked_of, count), _longs(prose_of, count), scores, chrome
    finally:
        free(tag_cache)
        free(c_nodes)
        free(ints)
        free(kinds)
        free(score)
        free(flags)


cdef long _credit(dict external, element, double points, long order):
    entry = external.get(element)
    if entry is None:
        external[element] = [order, points]
        return order + 1
    entry[1] += points
    return order


def _first(entry):
    return entry[0]


cdef array.array _longs(long* values, Py_ssize_t count):
    cdef array.array result = array.clone(_LONGS, count, zero=False)
    memcpy(result.data.as_voidptr, values, count * sizeof(long))
    return result


cdef bint _may_hide(tree.xmlNode* node) noexcept:
    """Whether the element has a ``style``, ``hidden`` or ``aria-hidden`` attribute."""
    cdef tree.xmlAttr* attribute = node.properties
    cdef const char* name
    while attribute != NULL:
        if attribute.ns == NULL:
            name = <const char*>attribute.name
            if strcmp(name, b"style") == 0 or strcmp(name, b"hidden") == 0 or strcmp(name, b"aria-hidden") == 0:
                return True
        attribute = attribute.next
    return False


cdef bint _has_name(tree.xmlNode* node) noexcept:
    """Whether the element carries a class or an id attribute (even an empty one)."""
    cdef tree.xmlAttr* attribute = node.properties
    while attribute != NULL:
        if attribute.ns == NULL and (
            strcmp(<const char*>attribute.name, b"class") == 0
            or strcmp(<const char*>attribute.name, b"id") == 0
        ):
            return True
        attribute = attribute.next
    return False


# --- element text ----------------------------------------------------------------------------


cdef struct Buffer:
    char* data
    Py_ssize_t size
    Py_ssize_t capacity


cdef int _append(Buffer* buffer, const char* text, Py_ssize_t length) except -1:
    cdef Py_ssize_t needed = buffer.size + length
    cdef Py_ssize_t capacity
    cdef char* grown
    if needed > buffer.capacity:
        capacity = max(needed, 2 * buffer.capacity, 1024)
        grown = <char*>realloc(buffer.data, capacity)
        if grown == NULL:
            raise MemoryError()
        buffer.data = grown
        buffer.capacity = capacity
    memcpy(buffer.data + buffer.size, text, length)
    buffer.size = needed
    return 0


cdef int _append_run(Buffer* buffer, tree.xmlNode* node) except -1:
    """Append the run of text nodes starting at `node` (lxml's .text or .tail)."""
    node = _text_or_skip(node)
    while node != NULL:
        if node.content != NULL:
            _append(buffer, <const char*>node.content, strlen(<const char*>node.content))
        node = _text_or_skip(node.next)
    return 0


cdef int _raw(
    tree.xmlNode* node, _Document document, hidden, Buffer* buffer, TagCache* tags
) except -1:
    # page._raw_text: hidden elements (and comments, instructions) give nothing; a block
    # element is set apart by a space on each side; children are followed by their tails.
    if node.type != tree.XML_ELEMENT_NODE:
        return 0
    cdef int kind = _kind_of(node, tags)
    if (kind & K_HIDDEN_LOWER or _may_hide(node)) and hidden(elementFactory(document, node)):
        return 0
    cdef bint block = (kind & K_BLOCK_LOWER) != 0
    if block:
        _append(buffer, b" ", 1)
    _append_run(buffer, node.children)
    cdef tree.xmlNode* child = node.children
    while child != NULL:
        if _isElement(child):
            _raw(child, document, hidden, buffer, tags)
            _append_run(buffer, child.next)
        child = child.next
    if block:
        _append(buffer, b" ", 1)
    return 0


def raw_text(_Element element, hidden):
    """The text `page._raw_text` joins for `element`, uncleaned.

    `hidden` answers for elements with a never-rendered tag or a ``style``, ``hidden`` or
    ``aria-hidden`` attribute (no other element is hidden: `page.is_hidden`).
    """
    cdef Buffer buffer
    buffer.data = NULL
    buffer.size = 0
    buffer.capacity = 0
    cdef TagCache* tags = <TagCache*>calloc(1, sizeof(TagCache))
    if tags == NULL:
        raise MemoryError()
    try:
        _raw(element._c_node, element._doc, hidden, &buffer, tags)
        if buffer.size == 0:
            return ""
        return buffer.data[:buffer.size].decode("utf-8")
    finally:
        free(tags)
        free(buffer.data)


# --- node tests ------------------------------------------------------------------------------

cdef enum:
    NO_VALUE = 0
    HAS_VALUE = 1
    UNREADABLE = 2  # a value made of several nodes: asked of lxml


cdef int _attribute(tree.xmlNode* node, const char* name, const char** value) noexcept:
    """Find attribute `name` (no namespace): NO_VALUE, or HAS_VALUE with `value` set."""
    cdef tree.xmlAttr* attribute = node.properties
    cdef tree.xmlNode* text
    while attribute != NULL:
        if attribute.ns == NULL and strcmp(<const char*>attribute.name, name) == 0:
            text = attribute.children
            if text == NULL:
                value[0] = b""
                return HAS_VALUE
            if text.next == NULL and text.type == tree.XML_TEXT_NODE and text.content != NULL:
                value[0] = <const char*>text.content
                return HAS_VALUE
            return UNREADABLE
        attribute = attribute.next
    return NO_VALUE


cdef int _is_heading(tree.xmlNode* node, int kind) noexcept:
    """page._is_heading: 1, 0, or -1 to ask lxml."""
    if kind & K_HEADING:
        return 1
    cdef const char* names
    cdef int found = _attribute(node, b"class", &names)
    if found == UNREADABLE:
        return -1
    if found == NO_VALUE or names[0] == 0:
        return 0
    cdef int index
    for index in range(_heading_count):
        if strstr(names, _heading_names[index]) != NULL:
            return 1
    return 0


cdef int _is_publication_time(tree.xmlNode* node, int kind) noexcept:
    """page._is_publication_time: 1, 0, or -1 to ask lxml."""
    cdef const char* value
    cdef int found = _attribute(node, b"itemprop", &value)
    if found == UNREADABLE:
        return -1
    if found == HAS_VALUE and strcmp(value, b"datePublished") == 0:
        if kind & K_TIME:
            return 1
        found = _attribute(node, b"datetime", &value)
        return -1 if found == UNREADABLE else found == HAS_VALUE
    if not kind & K_TIME:
        return 0
    found = _attribute(node, b"pubdate", &value)
    return -1 if found == UNREADABLE else found == HAS_VALUE


def select(list nodes, str test, fallback):
    """The nodes that pass `test` ("heading" or "publication time"), in their order.

    `fallback` is the Python test, asked where an attribute's value is not one text node.
    """
    cdef int which = 0 if test == "heading" else 1
    cdef TagCache* tags = <TagCache*>calloc(1, sizeof(TagCache))
    cdef tree.xmlNode* node
    cdef int answer
    if tags == NULL:
        raise MemoryError()
    found = []
    try:
        for element in nodes:
            node = (<_Element?>element)._c_node
            if node.type != tree.XML_ELEMENT_NODE:
                continue
            if which == 0:
                answer = _is_heading(node, _kind_of(node, tags))
            else:
                answer = _is_publication_time(node, _kind_of(node, tags))
            if answer < 0:
                answer = bool(fallback(element))
            if answer:
                found.append(element)
        return found
    finally:
        free(tags)


# --- whole-subtree reads ---------------------------------------------------------------------


cdef inline tree.xmlNode* _next_in(tree.xmlNode* node, tree.xmlNode* top) noexcept:
    """The node after `node` in document order within `top`'s subtree, or NULL."""
    if node.children != NULL and node.type == tree.XML_ELEMENT_NODE:
        return node.children
    while node != top:
        if node.next != NULL:
            return node.next
        node = node.parent
        if node == NULL:
            return NULL
    return NULL


def text_length(_Element element):
    """``len(" ".join(element.text_content().split()))``: the length of all the text below
    `element` (its own tail left out), whitespace collapsed, counted without building it."""
    cdef tree.xmlNode* top = element._c_node
    cdef tree.xmlNode* node = top.children if top.type == tree.XML_ELEMENT_NODE else NULL
    cdef Collapsed counted = Collapsed(0, 0, 0, False)
    while node != NULL:
        if _is_text(node) and node.content != NULL:
            _collapse(<const unsigned char*>node.content, &counted)
        node = _next_in(node, top)
    return _collapsed_length(&counted)


def attribute_values(_Element root, str name):
    """The values of attribute `name` (no namespace) on `root` and every element below it,
    in document order (XPath ``//@name`` from the document's root element); None when a value
    is not one text node (then ask lxml)."""
    cdef bytes key = name.encode("ascii")
    cdef const char* value
    cdef int found
    cdef tree.xmlNode* top = root._c_node
    cdef tree.xmlNode* node = top
    values = []
    while node != NULL:
        if node.type == tree.XML_ELEMENT_NODE:
            found = _attribute(node, key, &value)
            if found == UNREADABLE:
                return None
            if found == HAS_VALUE:
                values.append(value.decode("utf-8"))
        node = _next_in(node, top)
    return values


def configure_anchors(tags):
    """Record the tags whose short elements `short_elements` finds (exact names)."""
    for key in _TAG_KINDS:
        _TAG_KINDS[key] &= ~K_ANCHOR
    _add(_TAG_KINDS, tags, K_ANCHOR, True)


cdef long _characters(tree.xmlNode* top, long limit) noexcept:
    """Characters of the text below `top` (``text_content()``, ``itertext()``: its own tail
    left out), counted until they pass `limit` (-1: no limit)."""
    cdef tree.xmlNode* node = top.children if top.type == tree.XML_ELEMENT_NODE else NULL
    cdef const unsigned char* p
    cdef long size = 0
    while node != NULL:
        if _is_text(node) and node.content != NULL:
            p = <const unsigned char*>node.content
            while p[0] != 0:
                if (p[0] & 0xC0) != 0x80:  # a character starts at every byte but continuations
                    size += 1
                p += 1
            if 0 <= limit < size:
                return size
        node = _next_in(node, top)
    return size


cdef inline bint _text_longer(tree.xmlNode* top, long limit) noexcept:
    return _characters(top, limit) > limit


def raw_length(_Element element):
    """``len(element.text_content())``, counted without building the text."""
    return _characters(element._c_node, -1)


def short_elements(_Element root, long limit):
    """The descendants of `root` with an anchor tag (`configure_anchors`) whose text has at
    most `limit` characters, in document order (`boilerplate._short_anchor_elements`)."""
    cdef tree.xmlNode* top = root._c_node
    cdef tree.xmlNode* node = _next_in(top, top)
    cdef TagCache* tags = <TagCache*>calloc(1, sizeof(TagCache))
    if tags == NULL:
        raise MemoryError()
    found = []
    try:
        while node != NULL:
            if (
                node.type == tree.XML_ELEMENT_NODE
                and _kind_of(node, tags) & K_ANCHOR
                and not _text_longer(node, limit)
            ):
                found.append(elementFactory(root._doc, node))
            node = _next_in(node, top)
        return found
    finally:
        free(tags)


# --- CSS selection ---------------------------------------------------------------------------

cdef enum:
    OP_EXISTS = 0
    OP_EQUALS = 1
    OP_INCLUDES = 2    # a token of the value split at XPath whitespace (.class, ~=)
    OP_PREFIX = 3
    OP_SUFFIX = 4
    OP_SUBSTRING = 5
    OP_DASH = 6        # equal, or starting with value + "-"
    OP_DIFFERENT = 7   # != : absent, or another value
    OP_NEVER = 8       # an empty ^= $= *= ~= value matches nothing (cssselect's "0")
    CHILD = 1
    DESCENDANT = 2


#: cssselect's attribute operators, and the combinators, as `Selector` numbers them (read by
#: `dvcrawl.extract.page` when it builds a selector); "never" is an operator that matches
#: nothing (cssselect's "0" for an empty or spaced value).
CSS_OPERATORS = {
    "exists": OP_EXISTS, "=": OP_EQUALS, "~=": OP_INCLUDES, "^=": OP_PREFIX,
    "$=": OP_SUFFIX, "*=": OP_SUBSTRING, "|=": OP_DASH, "!=": OP_DIFFERENT, "never": OP_NEVER,
}
CSS_COMBINATORS = {">": CHILD, " ": DESCENDANT}


cdef struct AttributeTest:
    const char* name
    int op
    const char* value
    size_t length


cdef struct Compound:
    const char* tag      # NULL: any element
    int first_test
    int tests
    int combinator       # how it relates to the compound on its left (0: none)


cdef class Selector:
    """A CSS selector list compiled for `css_select`: alternatives of compounds.

    Built by `dvcrawl.extract.page` from cssselect's parse, for the selectors it can read
    (type, universal, class, id and attribute tests, descendant and child combinators).
    """

    cdef Compound* compounds
    cdef AttributeTest* tests
    cdef int* starts      # each alternative's first compound (its rightmost)
    cdef int* lengths
    cdef int alternatives
    cdef list keep        # the bytes the pointers above point into

    def __cinit__(self, list alternatives):
        """`alternatives`: for each, its compounds from right to left, each a tuple
        (tag or None, [(attribute, operator, value or None)], combinator to its left)."""
        cdef int compound_count = sum(len(alternative) for alternative in alternatives)
        cdef int test_count = sum(len(c[1]) for alternative in alternatives for c in alternative)
        self.keep = []
        self.alternatives = len(alternatives)
        self.compounds = <Compound*>calloc(max(compound_count, 1), sizeof(Compound))
        self.tests = <AttributeTest*>calloc(max(test_count, 1), sizeof(AttributeTest))
        self.starts = <int*>calloc(max(self.alternatives, 1), sizeof(int))
        self.lengths = <int*>calloc(max(self.alternatives, 1), sizeof(int))
        if not (self.compounds and self.tests and self.starts and self.lengths):
            raise MemoryError()
        cdef int c = 0, t = 0, a = 0
        for alternative in alternatives:
            self.starts[a] = c
            self.lengths[a] = len(alternative)
            a += 1
            for tag, tests, combinator in alternative:
                self.compounds[c].tag = self._keep(tag)
                self.compounds[c].first_test = t
                self.compounds[c].tests = len(tests)
                self.compounds[c].combinator = combinator
                c += 1
                for name, op, value in tests:
                    self.tests[t].name = self._keep(name)
                    self.tests[t].op = op
                    self.tests[t].value = self._keep(value)
                    self.tests[t].length = len(value.encode("utf-8")) if value is not None else 0
                    t += 1

    cdef const char* _keep(self, text):
        if text is None:
            return NULL
        data = text.encode("utf-8")
        self.keep.append(data)
        return <const char*>(<bytes>data)

    def __dealloc__(self):
        free(self.compounds)
        free(self.tests)
        free(self.starts)
        free(self.lengths)


cdef inline bint _xpath_space(char c) noexcept:
    return c == b' ' or c == b'\t' or c == b'\r' or c == b'\n'


cdef bint _has_token(const char* text, const char* token, size_t length) noexcept:
    # contains(concat(' ', normalize-space(@class), ' '), ' token ')
    cdef const char* start
    while text[0] != 0:
        while text[0] != 0 and _xpath_space(text[0]):
            text += 1
        start = text
        while text[0] != 0 and not _xpath_space(text[0]):
            text += 1
        if <size_t>(text - start) == length and length and strncmp(start, token, length) == 0:
            return True
    return False


cdef int _attribute_test(tree.xmlNode* node, AttributeTest* test) noexcept:
    """1 or 0, or -1 when a value is not one text node (ask lxml)."""
    cdef const char* value
    cdef int found = _attribute(node, test.name, &value)
    cdef size_t size
    if found == UNREADABLE:
        return -1
    if test.op == OP_DIFFERENT:
        return found == NO_VALUE or strcmp(value, test.value) != 0
    if found == NO_VALUE or test.op == OP_NEVER:
        return 0
    if test.op == OP_EXISTS:
        return 1
    if test.op == OP_EQUALS:
        return strcmp(value, test.value) == 0
    if test.op == OP_INCLUDES:
        return _has_token(value, test.value, test.length)
    if test.op == OP_SUBSTRING:
        return strstr(value, test.value) != NULL
    if test.op == OP_PREFIX:
        return strncmp(value, test.value, test.length) == 0
    size = strlen(value)
    if test.op == OP_SUFFIX:
        return size >= test.length and strcmp(value + size - test.length, test.value) == 0
    if test.op == OP_DASH:
        return strcmp(value, test.value) == 0 or (
            size > test.length
            and strncmp(value, test.value, test.length) == 0
            and value[test.length] == b'-'
        )
    return 0


cdef int _compound_matches(tree.xmlNode* node, Selector selector, int index) noexcept:
    cdef Compound* compound = &selector.compounds[index]
    cdef int t, answer
    if node.type != tree.XML_ELEMENT_NODE:
        return 0
    if compound.tag != NULL and (node.ns != NULL or strcmp(<const char*>node.name, compound.tag) != 0):
        return 0
    for t in range(compound.first_test, compound.first_test + compound.tests):
        answer = _attribute_test(node, &selector.tests[t])
        if answer <= 0:
            return answer
    return 1


cdef int _matches(tree.xmlNode* node, Selector selector, int index, int last) noexcept:
    """Whether `node` matches compounds `index`..`last` (right to left): 1, 0 or -1."""
    cdef int answer = _compound_matches(node, selector, index)
    if answer <= 0 or index == last:
        return answer
    cdef int combinator = selector.compounds[index].combinator
    cdef tree.xmlNode* ancestor = node.parent
    cdef int unknown = 0
    while ancestor != NULL and ancestor.type == tree.XML_ELEMENT_NODE:
        answer = _matches(ancestor, selector, index + 1, last)
        if answer == 1:
            return 1
        if answer < 0:
            unknown = 1
        if combinator == CHILD:
            break
        ancestor = ancestor.parent
    return -1 if unknown else 0


def css_select(list nodes, Selector selector):
    """The elements of `nodes` (a page's nodes in document order) that `selector` matches,
    in document order; None when an attribute value cannot be read here (ask lxml)."""
    cdef tree.xmlNode* node
    cdef int a, answer
    found = []
    for element in nodes:
        node = (<_Element?>element)._c_node
        if node.type != tree.XML_ELEMENT_NODE:
            continue
        for a in range(selector.alternatives):
            answer = _matches(
                node, selector, selector.starts[a], selector.starts[a] + selector.lengths[a] - 1
            )
            if answer < 0:
                return None
            if answer:
                found.append(element)
                break
    return found


cdef inline bint _is_invisible(unsigned int code) noexcept:
    # text.INVISIBLE: zero-width characters, the word joiner, the BOM, the soft hyphen and
    # the direction marks
    return (
        code == 0x200B or code == 0x200C or code == 0x200D or code == 0x2060
        or code == 0xFEFF or code == 0xAD or code == 0x200E or code == 0x200F
    )


def clean_text(_Element element, hidden):
    """The text of `raw_text` with whitespace collapsed (``" ".join(text.split())``), and
    whether it was free of `text.INVISIBLE` characters.

    Collapsing whitespace commutes with NFC composition (whitespace never composes, and no
    canonical mapping makes or removes it), so `page.element_text` needs only to compose the
    result; with invisible characters it cleans the raw text in Python, because removing them
    before composing would compose across them.
    """
    cdef Buffer buffer
    buffer.data = NULL
    buffer.size = 0
    buffer.capacity = 0
    cdef TagCache* tags = <TagCache*>calloc(1, sizeof(TagCache))
    cdef Buffer out
    out.data = NULL
    out.size = 0
    out.capacity = 0
    cdef const unsigned char* p
    cdef const unsigned char* end
    cdef const unsigned char* start
    cdef unsigned int code
    cdef int width
    cdef bint pending = False, plain = True
    if tags == NULL:
        raise MemoryError()
    try:
        _raw(element._c_node, element._doc, hidden, &buffer, tags)
        if buffer.size == 0:
            return "", True
        _append(&buffer, b"\0", 1)  # a terminator for _decode, not part of the text
        buffer.size -= 1
        p = <const unsigned char*>buffer.data
        end = p + buffer.size
        while p < end:
            start = p
            width = _decode(p, &code)
            p += width
            if Py_UNICODE_ISSPACE(code):
                pending = out.size > 0
                continue
            if _is_invisible(code):
                plain = False
            if pending:
                _append(&out, b" ", 1)
                pending = False
            _append(&out, <const char*>start, width)
        if out.size == 0:
            return "", plain
        return out.data[:out.size].decode("utf-8"), plain
    finally:
        free(tags)
        free(buffer.data)
        free(out.data)
