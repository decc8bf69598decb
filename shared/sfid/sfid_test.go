package sfid

import "testing"

func TestSuffixAgainstSalesforceDocs(t *testing.T) {
	tests := []struct{ id15, want string }{
		{"001D000000IqhSL", "IAZ"},
		{"001D000000I8mIm", "IAJ"},
		{"04iD0000000Cw6S", "IAS"},
		{"005D00000015rY9", "IAI"},
		{"a0BA0000000L2ZC", "MA0"},
		{"70130000001tcyI", "AAQ"},
	}
	for _, tt := range tests {
		if got := Suffix(tt.id15); got != tt.want {
			t.Errorf("Suffix(%q): got %q, want %q", tt.id15, got, tt.want)
		}
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"001D000000IqhSL", true},
		{"001D000000IqhSLIAZ", true},
		{"001D000000IqhSLiaz", true},
		{"001D000000IqhSLIAA", false},
		{"001D000000IqhS", false},
		{"001D000000Iqh/L", false},
		{"../../limits/xx", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := Valid(tt.id); got != tt.want {
			t.Errorf("Valid(%q): got %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"Account", true},
		{"My_Object__c", true},
		{"ns__Invoice__c", true},
		{"My_Evt__e", true},
		{"Foo_", false},
		{"_x", false},
		{"Foo___c", false},
		{"A__B__C__c", false},
		{"Account/../../limits", false},
		{"Account?x=1", false},
		{"Account#x", false},
		{"Acc%2Fount", false},
		{"Foo__zz", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidName(tt.name); got != tt.want {
			t.Errorf("ValidName(%q): got %v, want %v", tt.name, got, tt.want)
		}
	}
}
