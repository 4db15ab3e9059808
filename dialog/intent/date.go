package intent

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date is a calendar day, without time or zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// String formats the date as ISO 8601 (2006-01-02).
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

func dateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

func (d Date) addDays(n int) Date {
	return dateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

func (d Date) before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

func (d Date) weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 12, 0, 0, 0, time.UTC).Day()
}

var relativeDays = map[string]map[string]int{
	"en": {"today": 0, "tonight": 0, "this evening": 0, "this afternoon": 0, "this morning": 0,
		"tomorrow": 1, "tomorow": 1, "tommorow": 1, "day after tomorrow": 2, "the day after tomorrow": 2,
		"yesterday": -1, "day before yesterday": -2, "the day before yesterday": -2},
	"fr": {"aujourdhui": 0, "ce soir": 0, "ce matin": 0, "cet apres midi": 0, "demain": 1,
		"apres demain": 2, "apres apres demain": 3, "hier": -1, "avant hier": -2},
}

var weekdays = map[string]map[string]time.Weekday{
	"en": {"monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday, "thursday": time.Thursday,
		"friday": time.Friday, "saturday": time.Saturday, "sunday": time.Sunday},
	"fr": {"lundi": time.Monday, "mardi": time.Tuesday, "mercredi": time.Wednesday, "jeudi": time.Thursday,
		"vendredi": time.Friday, "samedi": time.Saturday, "dimanche": time.Sunday},
}

var months = map[string]map[string]time.Month{
	"en": {"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
		"may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
		"sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12},
	"fr": {"janvier": 1, "fevrier": 2, "fevr": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
		"aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12},
}

var ordinalsEN = map[string]int{
	"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
	"ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
	"fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
	"twentieth": 20, "thirtieth": 30,
}

// dateTables holds the word lists of one language setting.
type dateTables struct {
	relative map[string]int
	weekdays map[string]time.Weekday
	months   map[string]time.Month
}

func tablesFor(lang string) dateTables {
	l := primary(lang)
	if l == "en" || l == "fr" {
		return dateTables{relativeDays[l], weekdays[l], months[l]}
	}
	t := dateTables{map[string]int{}, map[string]time.Weekday{}, map[string]time.Month{}}
	for _, l := range []string{"en", "fr"} {
		for k, v := range relativeDays[l] {
			t.relative[k] = v
		}
		for k, v := range weekdays[l] {
			t.weekdays[k] = v
		}
		for k, v := range months[l] {
			t.months[k] = v
		}
	}
	return t
}

var dateTablesByLang = map[string]dateTables{"en": tablesFor("en"), "fr": tablesFor("fr"), "": tablesFor("")}

// ParseDate finds the first day named in text, in lang ("en", "fr"; empty
// for both), relative to the day of ref: "today", "tomorrow", "the day
// after tomorrow", "demain", "après-demain", "in 3 days", "dans huit jours"
// (a week in French), weekdays ("monday", "next friday", "lundi
// prochain", "ce jeudi": the first such day after today, or today for
// "this"/"ce"; "last monday", "lundi dernier" look back), and calendar days
// ("march 3rd", "the 3rd of march", "le 3 mars", "le premier mai", "le
// trois mars deux mille vingt-sept", "the 14th"). A day without a year is
// the next one on or after ref; a day without a month is in ref's month,
// or the next month when it has passed. Impossible days (30 February)
// are not ok.
func ParseDate(text, lang string, ref time.Time) (Date, bool) {
	tab, ok := dateTablesByLang[primary(lang)]
	if !ok {
		tab = dateTablesByLang[""]
	}
	s := numScanner{table: numAll, fr: true}
	switch primary(lang) {
	case "en":
		s.table, s.fr = numEN, false
	case "fr":
		s.table = numFR
	}
	s.t = getTokens(text)
	defer putTokens(s.t)
	today := dateOf(ref)
	n := len(s.t.toks)
	w := func(i int) string {
		if i < 0 || i >= n {
			return ""
		}
		return string(s.t.word(i))
	}
	for i := 0; i < n; i++ {
		// Relative days, longest phrase first.
		for l := min(4, n-i); l >= 1; l-- {
			if d, ok := tab.relative[string(s.t.buf[s.t.toks[i].start:s.t.toks[i+l-1].end])]; ok {
				return today.addDays(d), true
			}
		}
		// In N days / weeks.
		if (w(i) == "in" || w(i) == "dans") && i+1 < n {
			k := i + 1
			count, next, ok := s.smallNumber(k)
			if !ok && (w(k) == "a" || w(k) == "one" || w(k) == "une" || w(k) == "un") {
				count, next, ok = 1, k+1, true
			}
			if ok {
				switch w(next) {
				case "day", "days", "jour", "jours":
					if w(i) == "dans" && (count == 8 || count == 15) {
						count-- // "dans huit jours" is a week, "quinze jours" two
					}
					return today.addDays(count), true
				case "week", "weeks", "semaine", "semaines":
					return today.addDays(7 * count), true
				}
			}
		}
		// Weekdays.
		if wd, ok := tab.weekdays[w(i)]; ok {
			step := int(wd - today.weekday())
			switch {
			case w(i-1) == "last" || w(i+1) == "dernier":
				if step >= 0 {
					step -= 7
				}
			case w(i-1) == "this" || w(i-1) == "ce":
				if step < 0 {
					step += 7
				}
			default:
				if step <= 0 {
					step += 7
				}
			}
			// A calendar day may follow: "lundi 3 mars".
			if d, ok := s.calendarDay(i+1, tab, today); ok {
				return d, true
			}
			return today.addDays(step), true
		}
		if d, ok := s.calendarDay(i, tab, today); ok {
			return d, true
		}
	}
	return Date{}, false
}

// calendarDay reads "3 mars", "3rd of march", "march the 3rd", "the 14th"
// at word i.
func (s *numScanner) calendarDay(i int, tab dateTables, today Date) (Date, bool) {
	n := len(s.t.toks)
	w := func(i int) string {
		if i < 0 || i >= n {
			return ""
		}
		return string(s.t.word(i))
	}
	if i >= n {
		return Date{}, false
	}
	var day, next int
	var month time.Month
	if m, ok := tab.months[w(i)]; ok {
		// month first: "march 3rd", "march the third"
		k := i + 1
		if w(k) == "the" {
			k++
		}
		d, nx, ok := s.dayNumber(k)
		if !ok {
			return Date{}, false
		}
		day, month, next = d, m, nx
	} else {
		k := i
		if w(k) == "the" || w(k) == "le" {
			k++
		}
		d, nx, ok := s.dayNumber(k)
		if !ok {
			return Date{}, false
		}
		if w(nx) == "of" || w(nx) == "de" {
			nx++
		}
		m, ok := tab.months[w(nx)]
		if !ok {
			// "the 14th": needs an article or an ordinal to be a day.
			if k == i || !isOrdinal(s.t.word(k)) && w(i) != "le" {
				return Date{}, false
			}
			d0 := Date{today.Year, today.Month, d}
			if d > daysIn(d0.Year, d0.Month) || d0.before(today) {
				m := today.Month + 1
				y := today.Year
				if m > 12 {
					m, y = 1, y+1
				}
				d0 = Date{y, m, d}
			}
			if d > daysIn(d0.Year, d0.Month) {
				return Date{}, false
			}
			return d0, true
		}
		day, month, next = d, m, nx+1
	}
	year := today.Year
	explicit := false
	if y, _, ok := s.year(next); ok {
		year, explicit = y, true
	}
	if explicit {
		if day > daysIn(year, month) {
			return Date{}, false
		}
		return Date{year, month, day}, true
	}
	// The next such day on or after today (29 February may be years away).
	for y := year; y < year+9; y++ {
		d := Date{y, month, day}
		if day <= daysIn(y, month) && !d.before(today) {
			return d, true
		}
	}
	return Date{}, false
}

func isOrdinal(w []byte) bool {
	if _, ok := ordinalsEN[string(w)]; ok {
		return true
	}
	_, ok := ordinalDigits(w)
	return ok || string(w) == "premier"
}

// ordinalDigits reads "3rd", "21st", "1er", "2e", "3eme".
func ordinalDigits(w []byte) (int, bool) {
	k := 0
	for k < len(w) && w[k] >= '0' && w[k] <= '9' {
		k++
	}
	if k == 0 || k > 2 {
		return 0, false
	}
	switch string(w[k:]) {
	case "st", "nd", "rd", "th", "er", "e", "eme", "ere", "re":
	default:
		return 0, false
	}
	v, _ := strconv.Atoi(string(w[:k]))
	return v, true
}

// dayNumber reads a day of the month (1–31) at word i: digits, "3rd",
// "1er", "premier", "third", "twenty first", "vingt et un".
func (s *numScanner) dayNumber(i int) (day, next int, ok bool) {
	if i >= len(s.t.toks) {
		return 0, i, false
	}
	w := s.t.word(i)
	if allDigits(w) && len(w) <= 2 {
		v, _ := strconv.Atoi(string(w))
		return v, i + 1, v >= 1 && v <= 31
	}
	if v, ok := ordinalDigits(w); ok {
		return v, i + 1, v >= 1 && v <= 31
	}
	if string(w) == "premier" {
		return 1, i + 1, true
	}
	if v, ok := ordinalsEN[string(w)]; ok {
		return v, i + 1, true
	}
	// "twenty first", "thirty first"
	if nw, ok := numEN[string(w)]; ok && nw.kind == kTens && (nw.val == 20 || nw.val == 30) && i+1 < len(s.t.toks) {
		if v, ok := ordinalsEN[string(s.t.word(i+1))]; ok && v < 10 && int(nw.val)+v <= 31 {
			return int(nw.val) + v, i + 2, true
		}
	}
	v, next, ok := s.smallNumber(i)
	if !ok || v < 1 || v > 31 {
		return 0, i, false
	}
	return v, next, true
}

// smallNumber reads one spelled or written number below a thousand at word
// i (no digit-by-digit sequences).
func (s *numScanner) smallNumber(i int) (v, next int, ok bool) {
	if i >= len(s.t.toks) {
		return 0, i, false
	}
	if w := s.t.word(i); allDigits(w) && len(w) <= 3 {
		x, _ := strconv.Atoi(string(w))
		return x, i + 1, true
	}
	var g group
	j := i
	for ; j < len(s.t.toks); j++ {
		w, ok := s.word(j)
		if !ok {
			break
		}
		switch w.kind {
		case kUnit, kTeen, kTens, kHundred:
		case kAnd:
			if !s.andOK(&g, j) {
				goto done
			}
			g.last = kAnd
			continue
		default:
			goto done
		}
		if !g.active {
			g.start(w)
			continue
		}
		if !g.extend(w, s.fr) {
			break
		}
	}
done:
	if !g.active || g.last == kAnd {
		return 0, i, false
	}
	return int(g.total + g.cur), j, true
}

// year reads a year at word i: four digits, or spelled ("two thousand
// twenty six", "deux mille vingt-sept", "twenty twenty six").
func (s *numScanner) year(i int) (y, next int, ok bool) {
	if i >= len(s.t.toks) {
		return 0, i, false
	}
	if w := s.t.word(i); allDigits(w) && len(w) == 4 {
		v, _ := strconv.Atoi(string(w))
		return v, i + 1, true
	}
	var digits []byte
	end, _, real := s.span(i, &digits)
	if real == 0 {
		return 0, i, false
	}
	v, err := strconv.Atoi(string(digits))
	if err != nil || v < 1900 || v > 2199 || strings.HasPrefix(string(digits), "0") {
		return 0, i, false
	}
	return v, end, true
}
