module github.com/ktables/ktables

go 1.26
