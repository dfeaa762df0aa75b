#include "server/xml_writer.h"

#include <gtest/gtest.h>

#include "server/xml_reader.h"

namespace hydrant::server {
namespace {

TEST(XmlWriter, WritesS3sShapeOfDocument) {
  XmlWriter w;
  w.Declaration();
  w.Open("Root", "http://s3.amazonaws.com/doc/2006-03-01/");
  w.Element("Empty", "");
  w.Open("Inner");
  w.Element("Key", "a&b");
  w.Close();
  w.Text("<t>");
  w.Close();
  EXPECT_EQ(w.Take(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<Root xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Empty></Empty>"
            "<Inner><Key>a&amp;b</Key></Inner>&lt;t&gt;</Root>");
  EXPECT_EQ(w.Take(), "");
}

TEST(XmlWriter, EscapesSpecialAndControlCharacters) {
  EXPECT_EQ(XmlEscape("&<>\"'"), "&amp;&lt;&gt;&quot;&apos;");
  EXPECT_EQ(XmlEscape(std::string("a\x01\r\x1f\x7f\xc3\xbc", 7)),
            "a&#x1;&#xD;&#x1F;&#x7F;\xc3\xbc");
  EXPECT_EQ(XmlEscape(std::string(1, '\0')), "&#x0;");
}

TEST(XmlReader, UnescapesWhatTheWriterEscapes) {
  std::string text("k&<>\"'\x01\r\xc3\xbc", 10);
  EXPECT_EQ(XmlUnescape(XmlEscape(text)), text);
  EXPECT_EQ(XmlUnescape("&#252;&#x1F600;"), "\xc3\xbc\xf0\x9f\x98\x80");
  EXPECT_FALSE(XmlUnescape("&bogus;").has_value());
  EXPECT_FALSE(XmlUnescape("&#x110000;").has_value());
  // Surrogates are not characters: UTF-8 cannot carry them.
  EXPECT_FALSE(XmlUnescape("&#xD800;").has_value());
  EXPECT_FALSE(XmlUnescape("&#57343;").has_value());
  EXPECT_FALSE(XmlUnescape("a & b").has_value());
}

TEST(XmlReader, FindsElementsByName) {
  auto parts =
      XmlElements("<L><Part>1</Part><PartX>no</PartX><Part a=\"b\">2</Part><Part/></L>", "Part");
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], "1");
  EXPECT_EQ(parts[1], "2");
  EXPECT_EQ(parts[2], "");
}

}  // namespace
}  // namespace hydrant::server
