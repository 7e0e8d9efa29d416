/// The search page `GET /` serves: one self-contained HTML document.
public enum SearchPage {
    /// The page's HTML.
    public static let html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>mms search</title></head>
        <body><h1>mms search</h1><p>POST /v1/search; see /openapi.json.</p></body></html>
        """
}
