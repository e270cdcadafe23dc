package media;

public final class Uploader {
    private static final String ACCESS_KEY_ID = "AKIAWU7BAWTURL6PNC5I";
    private static final String SECRET_KEY = "M/co6pLcA5ljXD"
        + "OzD0dKERYVyx4"
        + "R3UtZuJek+YB6";
}
