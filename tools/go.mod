module github.com/ktables/ktables/tools

go 1.26.0
